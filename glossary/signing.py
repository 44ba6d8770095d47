"""Canonical bytes and Ed25519 signatures for published glossaries.

The server signs, the device verifies. What is signed is not the glossary itself but a small
*statement* about it::

    {"schema": 1, "purpose": "madoguchi-glossary", "version": "12-ab34…", "number": 12,
     "published_at": "2026-11-29T04:00:00Z", "sha256": "<hex of the canonical glossary bytes>",
     "expires_at": "2027-01-05T00:00:00Z"}

The statement carries the monotonically increasing version ``number``, so a device that remembers
the number it runs can refuse an older, correctly signed version replayed at it (a downgrade). The
``sha256`` binds the statement to the glossary content; :func:`verify_envelope` checks both.
``expires_at`` (signed, renewed by the server while it serves the version) lets a device notice that it
is being fed a stale statement: it refuses an expired one and warns while its own copy is expired.

Canonical bytes are ``json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``
encoded as UTF-8: the same rule as ``Glossary.canonical_json()``. This module is pure: no I/O apart
from the PEM helpers' bytes, no imports of the rest of madoguchi except the glossary errors.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from glossary.errors import SignatureError

__all__ = [
    "SIGNATURE_PURPOSE",
    "SignedStatement",
    "canonical_bytes",
    "content_sha256",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_fingerprint",
    "public_key_pem",
    "sign_envelope",
    "sign_statement",
    "statement_expired",
    "verify_envelope",
    "verify_statement",
]

#: Domain separation: a signature made for something else never verifies as a glossary.
SIGNATURE_PURPOSE: Final = "madoguchi-glossary"
_STATEMENT_SCHEMA: Final = 1


def canonical_bytes(obj: Any) -> bytes:
    """Return the canonical UTF-8 JSON encoding of ``obj`` (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def content_sha256(glossary_dict: dict[str, Any]) -> str:
    """Return the sha256 hex digest of a glossary dict's canonical bytes."""
    return hashlib.sha256(canonical_bytes(glossary_dict)).hexdigest()


@dataclass(frozen=True)
class SignedStatement:
    """What the publishing key vouches for: which content is version ``number``."""

    version: str
    number: int
    published_at: str
    sha256: str
    expires_at: str | None = None
    """UTC ISO time after which devices treat the statement as stale (None: a statement without expiry)."""

    def to_dict(self) -> dict[str, Any]:
        """Return the statement as the dict whose canonical bytes are signed."""
        data: dict[str, Any] = {
            "schema": _STATEMENT_SCHEMA,
            "purpose": SIGNATURE_PURPOSE,
            "version": self.version,
            "number": self.number,
            "published_at": self.published_at,
            "sha256": self.sha256,
        }
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at
        return data


def statement_expired(statement: SignedStatement, now: dt.datetime | None = None) -> bool:
    """True when the statement carries an expiry that has passed (an unparsable one counts as passed)."""
    if statement.expires_at is None:
        return False
    try:
        expires = dt.datetime.fromisoformat(statement.expires_at.replace("Z", "+00:00"))
    except ValueError:
        return True
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    return (now or dt.datetime.now(dt.UTC)) >= expires


def sign_statement(private_key: Ed25519PrivateKey, statement: SignedStatement) -> str:
    """Sign a statement; returns the base64 Ed25519 signature over its canonical bytes."""
    return base64.b64encode(private_key.sign(canonical_bytes(statement.to_dict()))).decode("ascii")


def verify_statement(public_key: Ed25519PublicKey, statement: SignedStatement, signature_b64: str) -> None:
    """Check a statement's signature.

    Raises:
        SignatureError: the signature is missing, malformed or made by another key / for other bytes.
    """
    if not signature_b64:
        raise SignatureError("glossary is unsigned: refusing it (the server must sign every version)")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("glossary signature is not valid base64: refusing it") from exc
    try:
        public_key.verify(signature, canonical_bytes(statement.to_dict()))
    except InvalidSignature as exc:
        raise SignatureError(
            f"glossary version {statement.number} has a bad signature: refusing it "
            "(tampered in transit, or the device holds another server's public key)"
        ) from exc


def sign_envelope(
    private_key: Ed25519PrivateKey,
    glossary_dict: dict[str, Any],
    *,
    version: str,
    number: int,
    published_at: str,
    expires_at: str | None = None,
) -> dict[str, Any]:
    """Build the envelope a server hands to devices: statement fields, glossary, signature."""
    statement = SignedStatement(
        version=version,
        number=number,
        published_at=published_at,
        sha256=content_sha256(glossary_dict),
        expires_at=expires_at,
    )
    envelope = {
        "version": version,
        "number": number,
        "published_at": published_at,
        "sha256": statement.sha256,
        "glossary": glossary_dict,
        "signature": sign_statement(private_key, statement),
    }
    if expires_at is not None:
        envelope["expires_at"] = expires_at
    return envelope


def verify_envelope(public_key: Ed25519PublicKey, envelope: dict[str, Any]) -> SignedStatement:
    """Verify an envelope's signature and that its glossary matches the signed sha256.

    Returns:
        The verified statement (its ``number`` is what a device compares to refuse downgrades).

    Raises:
        SignatureError: unsigned, malformed, bad signature, or content that does not match.
    """
    try:
        statement = SignedStatement(
            version=str(envelope["version"]),
            number=int(envelope["number"]),
            published_at=str(envelope["published_at"]),
            sha256=str(envelope["sha256"]),
            expires_at=None if envelope.get("expires_at") is None else str(envelope["expires_at"]),
        )
        glossary_dict = envelope["glossary"]
        signature = envelope.get("signature") or ""
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureError(
            f"glossary envelope is malformed ({exc!r} missing or wrong): refusing it"
        ) from exc
    if not isinstance(glossary_dict, dict):
        raise SignatureError("glossary envelope holds no glossary object: refusing it")
    verify_statement(public_key, statement, str(signature))
    actual = content_sha256(glossary_dict)
    if actual != statement.sha256:
        raise SignatureError(
            f"glossary version {statement.number} content does not match its signed sha256: refusing it"
        )
    return statement


# --- keys ---------------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    """Return a new Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """Return the private key as unencrypted PKCS#8 PEM (store it with mode 0600)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the public half as SubjectPublicKeyInfo PEM (the file devices receive)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey, *, full: bool = False) -> str:
    """Return ``sha256:<hex>`` of the raw public key: the first 16 hex digits for humans comparing keys,
    all 64 (``full``) where a fingerprint decides trust (``--expect-key``, rotation statements)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return "sha256:" + (digest if full else digest[:16])


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Parse a PKCS#8 PEM Ed25519 private key.

    Raises:
        SignatureError: the bytes are not an Ed25519 private key.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SignatureError("not a PEM private key (create one with: madoguchi server keygen)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the private key is not Ed25519 (create one with: madoguchi server keygen)")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Parse a SubjectPublicKeyInfo PEM Ed25519 public key.

    Raises:
        SignatureError: the bytes are not an Ed25519 public key.
    """
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise SignatureError("not a PEM public key (use the server's glossary-signing.pub file)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError("the public key is not Ed25519 (use the server's glossary-signing.pub file)")
    return key
