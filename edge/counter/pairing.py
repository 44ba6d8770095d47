"""Pairing a tablet with the counter device by a short code.

The device's own screen (opened on loopback) is always trusted. A page opened from any other address
first asks for the 6-digit code shown on the device's page and printed by ``madoguchi edge run``; a
correct code sets an HttpOnly cookie, and from then on that browser may use the page, the APIs and the
WebSocket. The code and every issued cookie live in memory only, so both change on restart. Wrong codes
are counted: after ``max_failures`` the code rotates (guessing a 6-digit code then needs the new one).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable, Mapping
from typing import Final

_LOGGER = logging.getLogger(__name__)

COOKIE_NAME: Final = "madoguchi_pair"
LOOPBACK_HOSTS: Final = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
CODE_DIGITS: Final = 6


def new_code() -> str:
    """A random 6-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class PairingGate:
    """Decides whether a client address (and its cookies) may use the counter."""

    def __init__(
        self,
        *,
        required: bool,
        trusted_hosts: Iterable[str] = LOOPBACK_HOSTS,
        max_failures: int = 10,
    ) -> None:
        """Args:
        required: False lets every client in (a counter that listens on loopback only).
        trusted_hosts: Client addresses that never need a code (the device itself).
        max_failures: Wrong codes before the code rotates (count).
        """
        self.required = required
        self.trusted_hosts = frozenset(trusted_hosts)
        self.max_failures = max_failures
        self._code = new_code()
        self._tokens: set[str] = set()
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def code(self) -> str:
        """The code to type on a tablet (show it on trusted screens only)."""
        return self._code

    def is_trusted(self, host: str | None) -> bool:
        """True for the device itself (or when pairing is not required)."""
        return not self.required or (host is not None and host in self.trusted_hosts)

    def allows(self, host: str | None, cookies: Mapping[str, str]) -> bool:
        """True when ``host`` is trusted or presents a cookie issued by ``pair``."""
        if self.is_trusted(host):
            return True
        token = cookies.get(COOKIE_NAME, "")
        with self._lock:
            return any(secrets.compare_digest(token, known) for known in self._tokens)

    def pair(self, code: str) -> str | None:
        """A new cookie token when ``code`` is right; None (and one more failure) otherwise."""
        typed = "".join(ch for ch in str(code) if ch.isdigit())
        with self._lock:
            if len(typed) == CODE_DIGITS and secrets.compare_digest(typed, self._code):
                token = secrets.token_urlsafe(32)
                self._tokens.add(token)
                _LOGGER.info("a tablet paired with this counter (%d paired)", len(self._tokens))
                return token
            self._failures += 1
            if self._failures >= self.max_failures:
                self._rotate_locked()
                _LOGGER.warning(
                    "%d wrong pairing codes: the code changed; new pairing code %s",
                    self.max_failures,
                    self._code,
                )
            return None

    def rotate(self) -> str:
        """Replace the code (cookies already issued stay valid)."""
        with self._lock:
            self._rotate_locked()
            return self._code

    def _rotate_locked(self) -> None:
        self._code = new_code()
        self._failures = 0
