"""Signed statements about model packs, made with the *pack key* (kept offline, never on the server).

A pack release is vouched for by ``pack.sig`` beside its ``pack.json``::

    {"signature": "<base64 Ed25519>", "signed_at": "2026-12-07T13:00:00Z", "key": "sha256:<64 hex>"}

over the canonical bytes of ``{"purpose": "madoguchi-pack", "schema": 2, "pack": <pack.json>,
"signed_at": …}``. ``signed_at`` orders the releases of one pack: a device never goes to a release signed
before the one it accepted last, unless a *rollback statement* signed with the same key says so::

    {"statement": {"purpose": "madoguchi-pack-rollback", "schema": 1, "pack": "whisper-base",
                   "from_version": "2.0", "to_version": "1.0", "signed_at": …}, "signature": "…"}

The glossary key signs neither (purposes differ in the signed bytes and devices pin one key per purpose).
This module is shared by the server, the device and the offline signing commands; it does no I/O.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from glossary.errors import SignatureError
from glossary.signing import canonical_bytes, public_key_fingerprint

__all__ = [
    "PACK_PURPOSE",
    "PACK_SIGNATURE_FILE",
    "ROLLBACK_PURPOSE",
    "sign_pack",
    "sign_rollback",
    "verify_pack",
    "verify_rollback",
]

PACK_PURPOSE: Final = "madoguchi-pack"
ROLLBACK_PURPOSE: Final = "madoguchi-pack-rollback"
PACK_SIGNATURE_FILE: Final = "pack.sig"
_SCHEMA: Final = 2


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pack_statement_bytes(pack: dict[str, Any], signed_at: str) -> bytes:
    """The bytes the pack key signs for one pack release."""
    return canonical_bytes({"purpose": PACK_PURPOSE, "schema": _SCHEMA, "pack": pack, "signed_at": signed_at})


def sign_pack(key: Ed25519PrivateKey, pack: dict[str, Any], signed_at: str | None = None) -> dict[str, str]:
    """The ``pack.sig`` document for ``pack`` (its ``pack.json`` object)."""
    when = signed_at or _now()
    signature = base64.b64encode(key.sign(pack_statement_bytes(pack, when))).decode("ascii")
    return {"signature": signature, "signed_at": when, "key": public_key_fingerprint(key, full=True)}


def verify_pack(public_key: Ed25519PublicKey, pack: dict[str, Any], document: Any) -> str:
    """Check a ``pack.sig`` document against ``pack``; returns its ``signed_at``.

    Raises:
        SignatureError: malformed, or not signed by ``public_key`` for exactly this ``pack.json``.
    """
    try:
        signed_at = str(document["signed_at"])
        raw = base64.b64decode(str(document["signature"]), validate=True)
        public_key.verify(raw, pack_statement_bytes(pack, signed_at))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise SignatureError(f"pack signature is malformed ({exc!r}): refusing it") from exc
    except InvalidSignature as exc:
        raise SignatureError(
            f"pack {pack.get('id')} {pack.get('version')} is not signed by the pack key "
            f"{public_key_fingerprint(public_key)}: refusing it"
        ) from exc
    return signed_at


def sign_rollback(key: Ed25519PrivateKey, pack_id: str, from_version: str, to_version: str) -> dict[str, Any]:
    """A rollback statement: devices on ``from_version`` of ``pack_id`` may go back to ``to_version``."""
    statement = {
        "purpose": ROLLBACK_PURPOSE,
        "schema": 1,
        "pack": pack_id,
        "from_version": from_version,
        "to_version": to_version,
        "signed_at": _now(),
    }
    signature = base64.b64encode(key.sign(canonical_bytes(statement))).decode("ascii")
    return {"statement": statement, "signature": signature}


def verify_rollback(public_key: Ed25519PublicKey, document: Any) -> dict[str, Any]:
    """Check a rollback statement; returns the statement.

    Raises:
        SignatureError: malformed, another purpose, or not signed by ``public_key``.
    """
    try:
        statement = dict(document["statement"])
        raw = base64.b64decode(str(document["signature"]), validate=True)
        public_key.verify(raw, canonical_bytes(statement))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise SignatureError(f"pack rollback statement is malformed ({exc!r}): refusing it") from exc
    except InvalidSignature as exc:
        raise SignatureError("pack rollback statement is not signed by the pack key: refusing it") from exc
    if statement.get("purpose") != ROLLBACK_PURPOSE:
        raise SignatureError("not a pack rollback statement: refusing it")
    return statement
