"""The signed manifest of an offline bundle: every file with its sha256 and size, one Ed25519 signature.

A bundle directory holds ``bundle.json`` (the manifest), ``bundle.sig`` (the signature by the central
server's Ed25519 key over the manifest's canonical bytes) and ``SHA256SUMS`` (the same checksums in the
``sha256sum -c`` format, so ``install.sh`` can check the files before any Python runs). The signed bytes
carry ``"purpose": "madoguchi-bundle"``, so a glossary signature never verifies as a bundle (and back).

Trust: a first install checks the signature with the key given by ``--pubkey`` (the same file as for
enrollment) or, failing that, the key shipped in the bundle, which proves integrity but not origin.
Updates check it with the key recorded by the first install, using the *installed* release's code.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.errors import EdgeError
from glossary.errors import SignatureError
from glossary.signing import canonical_bytes, load_public_key, public_key_fingerprint, public_key_pem
from madoguchi.files import file_sha256

_LOGGER = logging.getLogger(__name__)

MANIFEST_FILE: Final = "bundle.json"
SIGNATURE_FILE: Final = "bundle.sig"
SUMS_FILE: Final = "SHA256SUMS"
PUBKEY_FILE: Final = "signing.pub"
BUNDLE_PURPOSE: Final = "madoguchi-bundle"
SCHEMA: Final = 1
_CHUNK_BYTES: Final = 1 << 20
#: Files that describe the bundle and therefore are not listed in it.
_UNLISTED: Final = frozenset({MANIFEST_FILE, SIGNATURE_FILE, SUMS_FILE})


class BundleError(EdgeError):
    """A bundle cannot be built, verified, installed or rolled back."""

    code = "bundle"


@dataclass(frozen=True)
class BundleFile:
    """One file of the bundle, relative to its root."""

    path: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size_bytes": self.size_bytes}


@dataclass(frozen=True)
class BundleManifest:
    """What a bundle holds and for which machine it was built."""

    version: str
    """madoguchi version of the bundled wheel (e.g. ``0.1.0``)."""
    release_id: str
    """Unique id of this build; the release directory name (``<version>-<UTC stamp>``)."""
    arch: str
    """``x86_64`` or ``aarch64``."""
    python: str
    """Python version the wheelhouse targets (``3.11``)."""
    created_at: str
    packs: tuple[str, ...]
    glossary_version: str | None
    files: tuple[BundleFile, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The dict whose canonical bytes are signed."""
        return {
            "schema": SCHEMA,
            "purpose": BUNDLE_PURPOSE,
            "version": self.version,
            "release_id": self.release_id,
            "arch": self.arch,
            "python": self.python,
            "created_at": self.created_at,
            "packs": list(self.packs),
            "glossary_version": self.glossary_version,
            "files": [item.to_dict() for item in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BundleManifest:
        try:
            if data.get("purpose") != BUNDLE_PURPOSE or int(data["schema"]) != SCHEMA:
                raise BundleError(
                    f"{MANIFEST_FILE} is not a madoguchi bundle manifest of schema {SCHEMA}; "
                    "build the bundle again with this version"
                )
            return cls(
                version=str(data["version"]),
                release_id=str(data["release_id"]),
                arch=str(data["arch"]),
                python=str(data["python"]),
                created_at=str(data["created_at"]),
                packs=tuple(str(p) for p in data["packs"]),
                glossary_version=data.get("glossary_version"),
                files=tuple(
                    BundleFile(str(f["path"]), str(f["sha256"]), int(f["size_bytes"])) for f in data["files"]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{MANIFEST_FILE} is malformed ({exc!r}); copy the bundle again") from exc

    def file(self, path: str) -> BundleFile | None:
        return next((item for item in self.files if item.path == path), None)


def list_files(root: Path) -> list[BundleFile]:
    """Every regular file under ``root`` except the manifest, signature and checksum list, sorted."""
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and rel not in _UNLISTED:
            files.append(BundleFile(rel, file_sha256(path), path.stat().st_size))
    return files


def sign_manifest(root: Path, manifest: BundleManifest, key: Ed25519PrivateKey) -> BundleManifest:
    """Hash every file, write ``bundle.json``, ``bundle.sig``, ``SHA256SUMS`` and ``signing.pub``."""
    (root / PUBKEY_FILE).write_bytes(public_key_pem(key))
    signed = BundleManifest(**{**manifest.__dict__, "files": tuple(list_files(root))})
    body = canonical_bytes(signed.to_dict())
    (root / MANIFEST_FILE).write_bytes(body + b"\n")
    signature = {
        "algorithm": "ed25519",
        "signature": base64.b64encode(key.sign(body)).decode("ascii"),
        "public_key_fingerprint": public_key_fingerprint(key),
    }
    (root / SIGNATURE_FILE).write_text(json.dumps(signature, indent=2) + "\n", encoding="utf-8")
    sums = "".join(f"{item.sha256}  {item.path}\n" for item in signed.files)
    (root / SUMS_FILE).write_text(sums, encoding="utf-8")
    _LOGGER.info("signed bundle %s (%d files, key %s)", signed.release_id, len(signed.files),
                 signature["public_key_fingerprint"])  # fmt: skip
    return signed


def read_manifest(root: Path) -> BundleManifest:
    """Parse ``root/bundle.json`` without checking anything else."""
    try:
        return BundleManifest.from_dict(json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BundleError(f"{root} is not a bundle: {MANIFEST_FILE} is missing") from None
    except (OSError, ValueError) as exc:
        raise BundleError(f"{root / MANIFEST_FILE} is unreadable ({exc}); copy the bundle again") from exc


def load_trusted_key(pem_path: Path) -> Ed25519PublicKey:
    """Read the public key a bundle must be signed with."""
    try:
        return load_public_key(pem_path.read_bytes())
    except OSError as exc:
        raise BundleError(f"cannot read public key {pem_path}: {exc.strerror or exc}") from exc
    except SignatureError as exc:
        raise BundleError(f"{pem_path}: {exc}") from exc


def verify_bundle(
    root: Path, public_key: Ed25519PublicKey | None = None, *, quick: bool = False
) -> BundleManifest:
    """Check the signature (with ``public_key``, else the bundle's own key) and every file's size and sha256.

    ``quick`` checks sizes only. Files present but not listed are refused: nothing unsigned is installed.

    Raises:
        BundleError: unsigned, bad signature, a missing, extra, resized or altered file.
    """
    body_path = root / MANIFEST_FILE
    try:
        body = body_path.read_bytes().rstrip(b"\n")
        signature = json.loads((root / SIGNATURE_FILE).read_text(encoding="utf-8"))
        raw = base64.b64decode(str(signature["signature"]), validate=True)
    except FileNotFoundError as exc:
        raise BundleError(f"{root} is not a signed bundle: {Path(exc.filename).name} is missing") from None
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BundleError(f"{root / SIGNATURE_FILE} is malformed ({exc!r}); copy the bundle again") from exc
    if public_key is None:
        public_key = load_trusted_key(root / PUBKEY_FILE)
        _LOGGER.warning(
            "checking bundle %s with the key it ships (%s): proves integrity, not origin; "
            "pass --pubkey with the server's key to check who built it",
            root, public_key_fingerprint(public_key),
        )  # fmt: skip
    try:
        public_key.verify(raw, body)
    except InvalidSignature:
        raise BundleError(
            f"bundle {root} has a bad signature for key {public_key_fingerprint(public_key)}: refusing it "
            "(altered after signing, or built with another server's key)"
        ) from None
    manifest = BundleManifest.from_dict(json.loads(body))
    _check_files(root, manifest, quick=quick)
    return manifest


def _check_files(root: Path, manifest: BundleManifest, *, quick: bool) -> None:
    listed = {item.path for item in manifest.files}
    for item in manifest.files:
        path = root / item.path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BundleError(f"bundle file {item.path} is missing; copy the bundle again") from None
        if size != item.size_bytes:
            raise BundleError(
                f"bundle file {item.path} has {size} bytes, expected {item.size_bytes}; copy the bundle again"
            )
        if not quick and file_sha256(path) != item.sha256:
            raise BundleError(f"bundle file {item.path} is corrupt (sha256 differs); copy the bundle again")
    extra = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in listed | _UNLISTED
    ]
    if extra:
        raise BundleError(f"bundle holds an unsigned file {sorted(extra)[0]}: refusing it")
