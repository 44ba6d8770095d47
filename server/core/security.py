"""Secrets: device tokens (sha256 at rest), admin passwords (argon2), the Ed25519 signing key.

Device tokens are 32 random bytes, so a fast hash is enough to store them: there is nothing to
brute-force. Admin passwords are chosen by people, so they get argon2id with the parameters of
:class:`PasswordPolicy` (the one place they are set). Secret files are created 0600 in 0700
directories.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glossary.errors import SignatureError
from glossary.signing import generate_private_key, load_private_key, private_key_pem, public_key_pem
from server.errors import SigningKeyError

_LOGGER = logging.getLogger(__name__)


def new_token() -> str:
    """Return a new random token (32 bytes, URL-safe base64)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the sha256 hex of a device token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class RateLimiter:
    """Requests per key (a device) per minute: a token bucket refilled continuously, in memory."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, key: object, now: float | None = None) -> float:
        """Take one request from ``key``'s bucket: 0 when allowed, else the seconds until one is."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / rate
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0


#: argon2id iterations for admin passwords (RFC 9106 second recommendation: t=3, 64 MiB).
PASSWORD_TIME_COST = 3
#: argon2id memory for admin passwords, KiB.
PASSWORD_MEMORY_KIB = 64 * 1024
#: argon2id lanes.
PASSWORD_PARALLELISM = 4


@dataclass(frozen=True)
class PasswordPolicy:
    """The argon2id parameters of new admin password hashes (a hash records its own for checking)."""

    time_cost: int = PASSWORD_TIME_COST
    memory_kib: int = PASSWORD_MEMORY_KIB
    parallelism: int = PASSWORD_PARALLELISM

    def hasher(self) -> PasswordHasher:
        """An argon2id hasher with these parameters."""
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism
        )


def hash_password(password: str, policy: PasswordPolicy | None = None) -> str:
    """Return the argon2id hash of an admin password (the parameters are stored in the hash)."""
    return (policy or PasswordPolicy()).hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Check an admin password against its argon2 hash (with the parameters the hash records)."""
    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def write_secret_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a new file readable by its owner only (0600, parent 0700)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT


def private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if needed; a directory created here is 0700."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the Ed25519 signing key.

    Raises:
        SigningKeyError: missing or unreadable (run: madoguchi server keygen).
    """
    try:
        return load_private_key(path.read_bytes())
    except FileNotFoundError as exc:
        raise SigningKeyError(f"signing key {path} not found (run: madoguchi server keygen)") from exc
    except (OSError, SignatureError) as exc:
        raise SigningKeyError(f"signing key {path} is unreadable: {exc}") from exc


def write_signing_key(path: Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create a new signing key at ``path`` (mode 0600) and its public half at ``path.with_suffix('.pub')``.

    Raises:
        SigningKeyError: the key exists and ``overwrite`` is false, or it cannot be written.
    """
    if path.exists() and not overwrite:
        raise SigningKeyError(f"signing key {path} already exists (devices trust it; refusing to replace)")
    key = generate_private_key()
    try:
        write_secret_file(path, private_key_pem(key))
        path.with_suffix(".pub").write_bytes(public_key_pem(key))
    except OSError as exc:
        raise SigningKeyError(f"cannot write signing key {path}: {exc}") from exc
    _LOGGER.info("created signing key %s (public key %s)", path, path.with_suffix(".pub"))
    return key


def load_or_create_signing_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """Return the signing key and whether it was just created."""
    if path.exists():
        key = load_signing_key(path)
        pub = path.with_suffix(".pub")
        if not pub.exists():
            pub.write_bytes(public_key_pem(key))
        return key, False
    return write_signing_key(path), True
