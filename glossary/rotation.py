"""Key rotation statements: a pinned key is replaced only by a statement the old key signed.

The model is TUF's root rotation: a device (or an installed prefix) trusts exactly one key per purpose and
never takes a new one from a flag, a file beside the update or the network. A change of key travels as a
*rotation statement*::

    {"schema": 1, "purpose": "madoguchi-key-rotation", "key_purpose": "bundle",
     "old_key": "sha256:<64 hex>", "new_key": "sha256:<64 hex>", "new_key_pem": "-----BEGIN PUBLIC KEY…",
     "created_at": "2026-12-07T13:00:00Z"}

signed twice over its canonical bytes: by the old key (who authorises the change) and by the new key (proof
that whoever signs with it agreed to the statement). Rotations chain: ``A→B`` then ``B→C`` takes a device
that trusts ``A`` to ``C``; a statement whose ``old_key`` is not the key trusted at that point is ignored.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from glossary.errors import SignatureError
from glossary.signing import canonical_bytes, load_public_key, public_key_fingerprint, public_key_pem

__all__ = ["ROTATION_PURPOSE", "Rotation", "follow_rotations", "make_rotation", "read_rotations"]

ROTATION_PURPOSE: Final = "madoguchi-key-rotation"
_SCHEMA: Final = 1


@dataclass(frozen=True)
class Rotation:
    """One signed change of key for one purpose."""

    statement: dict[str, Any]
    old_signature: str
    new_signature: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "old_signature": self.old_signature,
            "new_signature": self.new_signature,
        }


def make_rotation(old: Ed25519PrivateKey, new: Ed25519PrivateKey, key_purpose: str) -> Rotation:
    """A rotation from ``old`` to ``new`` for ``key_purpose``, signed by both keys."""
    statement = {
        "schema": _SCHEMA,
        "purpose": ROTATION_PURPOSE,
        "key_purpose": key_purpose,
        "old_key": public_key_fingerprint(old, full=True),
        "new_key": public_key_fingerprint(new, full=True),
        "new_key_pem": public_key_pem(new).decode("ascii"),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    body = canonical_bytes(statement)
    return Rotation(statement, _b64(old.sign(body)), _b64(new.sign(body)))


def read_rotations(path: Path) -> list[Rotation]:
    """The rotation statements of a file (a JSON list, oldest first); an absent file holds none.

    Raises:
        SignatureError: the file is unreadable or malformed.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise SignatureError(f"key rotation file {path} is unreadable ({exc})") from exc
    try:
        return [
            Rotation(dict(i["statement"]), str(i["old_signature"]), str(i["new_signature"])) for i in data
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureError(f"key rotation file {path} is malformed ({exc!r})") from exc


def write_rotations(path: Path, rotations: list[Rotation]) -> None:
    """Write rotation statements as a JSON list."""
    path.write_text(json.dumps([r.to_dict() for r in rotations], indent=2) + "\n", encoding="utf-8")


def follow_rotations(
    trusted: Ed25519PublicKey, rotations: list[Rotation], key_purpose: str
) -> tuple[Ed25519PublicKey, list[str]]:
    """Walk the chain of rotations from ``trusted``; returns the key reached and the fingerprints passed.

    A statement for another purpose, or from a key other than the one trusted at that point, is skipped.

    Raises:
        SignatureError: a statement from the trusted key whose signatures do not verify (forged or damaged).
    """
    current, passed = trusted, []
    for rotation in rotations:
        statement = rotation.statement
        if statement.get("purpose") != ROTATION_PURPOSE or statement.get("key_purpose") != key_purpose:
            continue
        if statement.get("old_key") != public_key_fingerprint(current, full=True):
            continue
        new = _check(rotation, current)
        passed.append(public_key_fingerprint(new, full=True))
        current = new
    return current, passed


def _check(rotation: Rotation, old: Ed25519PublicKey) -> Ed25519PublicKey:
    statement = rotation.statement
    body = canonical_bytes(statement)
    try:
        new = load_public_key(str(statement["new_key_pem"]).encode("ascii"))
        old.verify(base64.b64decode(rotation.old_signature, validate=True), body)
        new.verify(base64.b64decode(rotation.new_signature, validate=True), body)
    except (InvalidSignature, binascii.Error, ValueError, KeyError, SignatureError) as exc:
        raise SignatureError(
            f"key rotation from {statement.get('old_key')} is not signed by the old and the new key: "
            "refusing it (only the holder of the trusted key can change it)"
        ) from exc
    if statement.get("new_key") != public_key_fingerprint(new, full=True):
        raise SignatureError("key rotation names another key than the one it carries: refusing it")
    return new


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
