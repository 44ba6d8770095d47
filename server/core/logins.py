"""Admin logins that resist guessing and cannot be used to exhaust the server.

- **Throttling**: failures are counted per account name and per client address. The first
  ``free_failures`` cost nothing; each further failure doubles the wait (from ``base_delay_s`` up
  to ``max_delay_s``) before that account or client may try again (429 with ``Retry-After``).
  A locked key is refused before any password hashing. Counts fade after ``forget_after_s``
  without failures, and a success clears them. Unknown names are throttled like real ones.
- **Bounded hashing**: at most ``max_concurrent`` argon2 checks run at once (each takes ~64 MiB);
  a request that cannot get a slot within ``wait_s`` gets 503.
- **No user enumeration**: an unknown name is checked against a dummy hash with the same
  parameters, so it costs as much time as a real one.
- **One hash per login, not per request**: a verified HTTP Basic credential is remembered (as an
  HMAC under a per-process key, never the password) for ``remember_s``, so scripts that send
  Basic on every request do not pay argon2 each time; the console uses a session cookie and API
  clients may exchange Basic for a short-lived bearer token.

State is in memory, per server process: a restart forgets throttling (and remembered credentials).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from server.core.security import PasswordPolicy, hash_password, verify_password

_LOGGER = logging.getLogger(__name__)


class LoginThrottled(Exception):
    """Too many failed logins for this account or client; retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins; retry in {math.ceil(retry_after_s)} s")
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        """The ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(self.retry_after_s)))


class LoginBusy(Exception):
    """Every password-check slot stayed busy: try again shortly (503)."""


@dataclass(frozen=True)
class ThrottlePolicy:
    """How failed logins slow further tries."""

    free_failures: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0
    forget_after_s: float = 3600.0
    max_keys: int = 10_000


@dataclass
class _Record:
    failures: int
    last_failure: float
    locked_until: float


class LoginThrottle:
    """Failure counts with exponential back-off per key (``account:NAME`` or ``client:ADDR``)."""

    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after_s(self, keys: list[str], now: float | None = None) -> float:
        """Seconds until every key may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = [r.locked_until - now for k in keys if (r := self._live(k, now)) is not None]
        return max([0.0, *waits])

    def failed(self, keys: list[str], now: float | None = None) -> None:
        """Count one failure for each key and extend its lock-out."""
        now = time.monotonic() if now is None else now
        p = self.policy
        with self._lock:
            for key in keys:
                record = self._live(key, now) or _Record(0, now, now)
                record.failures += 1
                record.last_failure = now
                over = record.failures - p.free_failures
                if over >= 0:
                    record.locked_until = now + min(p.max_delay_s, p.base_delay_s * 2.0**over)
                self._records[key] = record
                self._records.move_to_end(key)
            while len(self._records) > p.max_keys:
                self._records.popitem(last=False)

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for key in keys:
                self._records.pop(key, None)

    def _live(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last_failure > self.policy.forget_after_s:
            del self._records[key]
            return None
        return record


class PasswordChecker:
    """argon2 checks bounded in number, timing-equal for unknown accounts, with a short memory."""

    def __init__(
        self,
        policy: PasswordPolicy,
        *,
        max_concurrent: int = 2,
        wait_s: float = 10.0,
        remember_s: float = 300.0,
        remember_max: int = 256,
    ) -> None:
        self._dummy_hash = hash_password(secrets.token_urlsafe(24), policy)
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))
        self._wait_s = wait_s
        self._remember_s = remember_s
        self._remember_max = remember_max
        self._mac_key = secrets.token_bytes(32)
        self._remembered: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, password: str, password_hash: str | None) -> bool:
        """True when ``password`` matches ``password_hash``; None (unknown account) checks a dummy.

        Raises:
            LoginBusy: no hashing slot came free within the wait.
        """
        if not self._slots.acquire(timeout=self._wait_s):
            raise LoginBusy("password checks are busy; try again shortly")
        try:
            matched = verify_password(password, password_hash or self._dummy_hash)
        finally:
            self._slots.release()
        return matched and password_hash is not None

    def remembered(self, username: str, password: str, password_hash: str) -> bool:
        """True when this exact credential was verified against this hash within ``remember_s``."""
        tag = self._tag(username, password)
        now = time.monotonic()
        with self._lock:
            entry = self._remembered.get(tag)
            if entry is None:
                return False
            stored_hash, at = entry
            if now - at > self._remember_s or not hmac.compare_digest(stored_hash, password_hash):
                del self._remembered[tag]
                return False
            return True

    def remember(self, username: str, password: str, password_hash: str) -> None:
        """Remember a verified credential (as an HMAC) for ``remember_s``."""
        with self._lock:
            self._remembered[self._tag(username, password)] = (password_hash, time.monotonic())
            while len(self._remembered) > self._remember_max:
                self._remembered.popitem(last=False)

    def _tag(self, username: str, password: str) -> bytes:
        message = username.encode("utf-8") + b"\x00" + password.encode("utf-8")
        return hmac.new(self._mac_key, message, hashlib.sha256).digest()


class LoginGuard:
    """Throttle, then check: the one entry point for admin passwords (console, API, Basic)."""

    def __init__(self, checker: PasswordChecker, throttle: LoginThrottle) -> None:
        self.checker = checker
        self.throttle = throttle

    def check(self, username: str, password: str, password_hash: str | None, client: str) -> bool:
        """True when the password is right; counts failures and refuses locked accounts/clients.

        ``password_hash`` is None for an unknown account (checked against a dummy hash all the same).

        Raises:
            LoginThrottled: this account or client must wait before trying again.
            LoginBusy: every hashing slot is busy.
        """
        keys = [f"account:{username.casefold()}", f"client:{client}"]
        if password_hash is not None and self.checker.remembered(username, password, password_hash):
            return True
        wait = self.throttle.retry_after_s(keys)
        if wait > 0:
            raise LoginThrottled(wait)
        if self.checker.verify(password, password_hash):
            assert password_hash is not None
            self.checker.remember(username, password, password_hash)
            self.throttle.succeeded(keys)
            return True
        self.throttle.failed(keys)
        _LOGGER.info("failed admin login from %s", client)
        return False
