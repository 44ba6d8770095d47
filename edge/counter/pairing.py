"""Pairing a tablet with the counter device by a short-lived code shown on the device's own screen.

The device's own screen (opened on loopback) is always trusted. When the clerk presses "pair a tablet"
there, the device shows an 8-character code (32-symbol alphabet without look-alikes: 40 bits) for
``window_s`` seconds; the code is never logged or printed. Typing it on the tablet sets an HttpOnly
cookie valid until the end of the local day (or ``lifetime_s``); the clerk can revoke every pairing
from the device at any time. Codes and cookies live in memory only, so a restart revokes them too.

Guessing is bounded per client address: at most ``max_per_minute`` wrong codes a minute, and none at
all after ``lockout_after`` (until the clerk opens a new pairing window); a window also closes after
``max_window_failures`` wrong codes from all clients together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

_LOGGER = logging.getLogger(__name__)

COOKIE_NAME: Final = "madoguchi_pair"
LOOPBACK_HOSTS: Final = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
#: 24 letters without I and O, 8 digits without 0 and 1: 32 symbols, 5 bits each.
ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 8


def new_code() -> str:
    """A random code of ``CODE_LENGTH`` symbols from ``ALPHABET`` (40 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """The code as typed, upper-cased, without spaces and hyphens."""
    return "".join(ch for ch in str(typed).upper() if ch not in " -\t")


def show_code(code: str) -> str:
    """``ABCD-EFGH``: easier to read aloud and type."""
    return f"{code[:4]}-{code[4:]}"


def end_of_day(now: float) -> float:
    """The next local midnight after ``now`` (epoch seconds)."""
    today = dt.datetime.fromtimestamp(now).astimezone()
    midnight = dt.datetime.combine(today.date() + dt.timedelta(days=1), dt.time(), tzinfo=today.tzinfo)
    return midnight.timestamp()


@dataclass(frozen=True)
class PairResult:
    """What ``PairingGate.pair`` decided.

    Attributes:
        outcome: ``paired``, ``wrong`` (code checked and wrong), ``limited`` (too many tries this
            minute), ``locked`` (too many tries in all) or ``closed`` (no pairing window open).
        token: The cookie value (``paired`` only).
        expires_at: When the cookie stops working (epoch seconds; ``paired`` only).
        retry_after_s: When trying again makes sense (``limited`` only).
    """

    outcome: Literal["paired", "wrong", "limited", "locked", "closed"]
    token: str | None = None
    expires_at: float | None = None
    retry_after_s: int | None = None


class _Failures:
    """Wrong codes of one client: the last minute's and the total."""

    def __init__(self) -> None:
        self.recent: deque[float] = deque()
        self.total = 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PairingGate:
    """Decides whether a client address (and its cookies) may use the counter."""

    def __init__(
        self,
        *,
        required: bool,
        trusted_hosts: Iterable[str] = LOOPBACK_HOSTS,
        window_s: float = 300.0,
        lifetime_s: float | None = None,
        max_per_minute: int = 5,
        lockout_after: int = 20,
        max_window_failures: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        required: False lets every client in (a counter that listens on loopback only).
        trusted_hosts: Client addresses that never need a code (the device itself).
        window_s: How long a code shown on the device can be used (seconds).
        lifetime_s: How long a pairing lasts (seconds; None: until the end of the local day).
        max_per_minute: Wrong codes a client may try per minute.
        lockout_after: Wrong codes after which a client may not try again in this window.
        max_window_failures: Wrong codes (all clients) after which the window closes.
        clock: Epoch seconds (tests pass a fake clock).
        """
        self.required = required
        self.trusted_hosts = frozenset(trusted_hosts)
        self.window_s = window_s
        self.lifetime_s = lifetime_s
        self.max_per_minute = max_per_minute
        self.lockout_after = lockout_after
        self.max_window_failures = max_window_failures
        self.clock = clock
        self._code: str | None = None
        self._closes_at = 0.0
        self._window_failures = 0
        self._failures: dict[str, _Failures] = {}
        self._tokens: dict[str, float] = {}  # sha256(token) -> expiry
        self._lock = threading.Lock()

    # -- who may come in ------------------------------------------------------------------------

    def is_trusted(self, host: str | None) -> bool:
        """True for the device itself (or when pairing is not required)."""
        return not self.required or (host is not None and host in self.trusted_hosts)

    def token_expiry(self, cookies: Mapping[str, str]) -> float | None:
        """When the pairing cookie in ``cookies`` expires, or None when it is missing, unknown or expired."""
        token = cookies.get(COOKIE_NAME)
        if not token:
            return None
        with self._lock:
            expires = self._tokens.get(_digest(token))
            if expires is None:
                return None
            if expires <= self.clock():
                del self._tokens[_digest(token)]
                return None
            return expires

    def allows(self, host: str | None, cookies: Mapping[str, str]) -> bool:
        """True when ``host`` is trusted or presents a live cookie issued by ``pair``."""
        return self.is_trusted(host) or self.token_expiry(cookies) is not None

    # -- the clerk's side -----------------------------------------------------------------------

    def start(self) -> tuple[str, float]:
        """Open a pairing window: a new code (show it on the device only) and when it closes."""
        with self._lock:
            self._code = new_code()
            self._closes_at = self.clock() + self.window_s
            self._window_failures = 0
            self._failures.clear()
            return self._code, self._closes_at

    def stop(self) -> None:
        """Close the pairing window (the code stops working)."""
        with self._lock:
            self._code = None

    def revoke_all(self) -> int:
        """Forget every pairing (tablets must pair again); returns how many were live."""
        with self._lock:
            now = self.clock()
            live = sum(expires > now for expires in self._tokens.values())
            self._tokens.clear()
            self._code = None
        _LOGGER.info("all tablet pairings revoked (%d were live)", live)
        return live

    def status(self) -> dict[str, float | int | bool | None]:
        """Whether a window is open, for how long, and how many tablets are paired (never the code)."""
        with self._lock:
            now = self.clock()
            active = self._window_open(now)
            return {
                "required": self.required,
                "active": active,
                "closes_in_s": round(self._closes_at - now) if active else None,
                "paired": sum(expires > now for expires in self._tokens.values()),
            }

    # -- the tablet's side ----------------------------------------------------------------------

    def pair(self, client: str, typed: str) -> PairResult:
        """Check a code typed on ``client`` (its address), within the limits on guessing."""
        with self._lock:
            now = self.clock()
            failures = self._failures.get(client)
            if failures is not None:
                while failures.recent and failures.recent[0] <= now - 60:
                    failures.recent.popleft()
                if failures.total >= self.lockout_after:
                    return PairResult("locked")
                if len(failures.recent) >= self.max_per_minute:
                    return PairResult("limited", retry_after_s=int(failures.recent[0] + 61 - now))
            if not self._window_open(now) or self._code is None:
                return PairResult("closed")
            if secrets.compare_digest(normalise_code(typed).encode(), self._code.encode()):
                return self._paired_locked(now)
            failures = self._failures.setdefault(client, _Failures())
            failures.recent.append(now)
            failures.total += 1
            self._window_failures += 1
            if self._window_failures >= self.max_window_failures:
                self._code = None
                _LOGGER.warning("%d wrong pairing codes: the pairing window closed", self._window_failures)
            return PairResult("wrong")

    def _paired_locked(self, now: float) -> PairResult:
        token = secrets.token_urlsafe(32)
        expires = now + self.lifetime_s if self.lifetime_s is not None else end_of_day(now)
        self._tokens = {key: when for key, when in self._tokens.items() if when > now}
        self._tokens[_digest(token)] = expires
        self._code = None  # one code, one tablet
        _LOGGER.info("a tablet paired with this counter (%d paired)", len(self._tokens))
        return PairResult("paired", token=token, expires_at=expires)

    def _window_open(self, now: float) -> bool:
        return self._code is not None and now < self._closes_at
