"""Which key an install trusts: the pinned one, a signed rotation of it, or a first key IT confirmed.

The trust chain of a prefix:

- **First install** (nothing pinned): the bundle is checked with the key given by ``--pubkey`` (else the
  one it ships), and the installer prints that key's full fingerprint and the bundle digest (sha256 of
  ``bundle.json``, which lists every file's sha256). It proceeds only with ``--expect-key FINGERPRINT``
  equal to it (the value on the city IT's paper or intranet) or an interactive "yes"; otherwise it refuses.
  The key is then pinned in ``etc/bundle-signing.pub``.
- **Updates**: the pinned key, and only it, checks the bundle; ``--pubkey``/``--expect-key`` naming another
  key are refused. The one way to another key is a rotation statement signed by the pinned key
  (``key-rotation.json`` in the bundle, see :mod:`glossary.rotation`); the key it leads to is pinned after
  the install.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deploy.bundle.manifest import MANIFEST_FILE, PUBKEY_FILE, BundleError, BundleManifest, load_trusted_key
from glossary.errors import SignatureError
from glossary.rotation import follow_rotations, read_rotations
from glossary.signing import public_key_fingerprint

TRUSTED_KEY_FILE: Final = "bundle-signing.pub"
ROTATION_FILE: Final = "key-rotation.json"
KEY_PURPOSE: Final = "bundle"
_FINGERPRINT_RE: Final = re.compile(r"^(sha256:)?[0-9a-f]{64}$")


@dataclass(frozen=True)
class Trust:
    """The key a bundle must verify with, and how it came to be trusted."""

    key: Ed25519PublicKey
    first_install: bool
    rotated_to: list[str] = field(default_factory=list)
    """Full fingerprints of the keys a rotation chain led to (empty: no rotation)."""

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self.key, full=True)


def pinned_key_path(prefix: Path) -> Path:
    return prefix / "etc" / TRUSTED_KEY_FILE


def normalise_fingerprint(value: str) -> str:
    """``sha256:<64 hex>`` from what a person typed (colons, spaces and case ignored).

    Raises:
        BundleError: not a full sha256 fingerprint (a 16-digit short form is not enough to decide trust).
    """
    text = re.sub(r"[\s:]", "", value.strip().lower()).removeprefix("sha256")
    if not _FINGERPRINT_RE.match(text):
        raise BundleError(
            f"--expect-key {value!r} is not a full key fingerprint; give all 64 hex digits, e.g. "
            "sha256:3f1c… as printed by `madoguchi bundle verify` or the first install"
        )
    return "sha256:" + text


def bundle_digest(root: Path) -> str:
    """``sha256:<hex>`` of ``bundle.json`` (what ``sha256sum bundle.json`` prints); it names every file."""
    return "sha256:" + hashlib.sha256((root / MANIFEST_FILE).read_bytes()).hexdigest()


def resolve_trust(prefix: Path, bundle: Path, pubkey_path: Path | None, expect_key: str | None) -> Trust:
    """The key ``bundle`` must be signed with for ``prefix`` (before any of its files is used).

    Raises:
        BundleError: ``--pubkey``/``--expect-key`` name another key than the pinned one, or a rotation
            statement in the bundle is forged.
    """
    pinned_path = pinned_key_path(prefix)
    if not pinned_path.exists():
        return Trust(load_trusted_key(pubkey_path or bundle / PUBKEY_FILE), first_install=True)
    pinned = load_trusted_key(pinned_path)
    pinned_fp = public_key_fingerprint(pinned, full=True)
    if (
        pubkey_path is not None
        and public_key_fingerprint(load_trusted_key(pubkey_path), full=True) != pinned_fp
    ):
        raise BundleError(
            f"{prefix} trusts bundle key {pinned_fp}; --pubkey {pubkey_path} names another key and cannot "
            "replace it. A key change needs a rotation statement signed by the trusted key "
            "(madoguchi bundle rotate-key) inside the bundle"
        )
    try:
        key, passed = follow_rotations(pinned, read_rotations(bundle / ROTATION_FILE), KEY_PURPOSE)
    except SignatureError as exc:
        raise BundleError(f"bundle {bundle}: {exc}") from exc
    if expect_key is not None and normalise_fingerprint(expect_key) not in (pinned_fp, *passed):
        raise BundleError(f"--expect-key {expect_key} is not the key {prefix} trusts ({pinned_fp}): refusing")
    return Trust(key, first_install=False, rotated_to=passed)


def confirm_first_install(
    trust: Trust,
    bundle: Path,
    manifest: BundleManifest,
    expect_key: str | None,
    confirm: Callable[[str], bool] | None,
) -> None:
    """Go on with a first install only if IT vouched for the key (``--expect-key`` or a "yes").

    Raises:
        BundleError: no ``--expect-key`` and no interactive yes, or ``--expect-key`` names another key;
            the message carries the fingerprint and the bundle digest to compare.
    """
    if not trust.first_install:
        return
    facts = (
        f"bundle {manifest.release_id} is signed by key {trust.fingerprint}; bundle digest "
        f"{bundle_digest(bundle)}"
    )
    if expect_key is not None:
        if normalise_fingerprint(expect_key) != trust.fingerprint:
            raise BundleError(f"{facts}, not the expected key {expect_key}: refusing this bundle")
        return
    if confirm is not None and confirm(f"first install: {facts}. Is this the key on IT's paper?"):
        return
    raise BundleError(
        f"first install: {facts}. Compare the fingerprint with the one IT published and run again with "
        f"--expect-key {trust.fingerprint} (or answer yes on a terminal)"
    )
