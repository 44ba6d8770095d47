"""Who may talk to the counter at all: the Host allow-list, same-origin checks, body limits, headers.

A web page open in any browser that can reach the counter (the kiosk itself, a clerk's PC, a site that
rebinds its DNS name to 127.0.0.1) must not drive it. ``CounterGuard`` is a plain ASGI middleware, so
it sees HTTP requests and WebSocket handshakes alike:

- ``Host`` must name the counter (loopback names, the device's LAN names and addresses): a rebound
  name such as ``evil.example`` gets 403 (WebSocket: close 1008 before the handshake completes).
- ``Origin``, when a browser sends one, must be the counter's own scheme, host and port. WebSocket
  handshakes and state-changing requests without ``Origin`` are refused when ``Sec-Fetch-Site`` says
  they come from another site. (Programs that are not browsers send neither; pairing still applies.)
- Request bodies are read up to ``max_body_bytes`` (413 beyond it) before any route sees them.
- Every response carries a strict Content-Security-Policy, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer`` and ``nosniff``.

Refusals are logged with their reason and the offending header only, never a body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final
from urllib.parse import urlsplit

_LOGGER = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost", "::1")

#: The page loads its own scripts, styles and audio worklet only; no inline code, no framing.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
)
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _host_and_port(authority: str, scheme: str) -> tuple[str, int] | None:
    """``("counter-3.local", 8765)`` from a Host value such as ``counter-3.local:8765``; None if malformed."""
    try:
        parts = urlsplit(f"//{authority}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.username is not None or parts.path or parts.query:
        return None
    return host.lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class CounterGuard:
    """ASGI middleware: refuse foreign hosts and origins, bound bodies, add the security headers."""

    def __init__(self, app: App, *, allowed_hosts: Iterable[str], max_body_bytes: int = 16 * 1024) -> None:
        """Args:
        app: The counter app.
        allowed_hosts: Names and addresses the counter answers to (``Host`` without the port).
        max_body_bytes: Largest request body any route accepts (bytes).
        """
        self.app = app
        self.allowed_hosts = frozenset(name.strip("[]").lower() for name in allowed_hosts)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is not None:
            _LOGGER.warning("refused a %s request to %s: %s", kind, scope.get("path", "?"), reason)
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": "not allowed"})
            else:
                await _reply(send, 403, "this request does not come from the counter's own page")
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive)
        if body is None:
            await _reply(send, 413, f"request body too large (max {self.max_body_bytes} bytes)")
            return
        await self.app(scope, _replay(body, receive), _with_headers(send))

    def refusal(self, scope: Scope) -> str | None:
        """Why ``scope`` is refused (host or origin), or None when it may go on."""
        http_scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        host_value = _header(scope, b"host") or ""
        host = _host_and_port(host_value, http_scheme)
        if host is None or host[0] not in self.allowed_hosts:
            return f"Host {host_value[:80]!r} is not one of the counter's names"
        origin = _header(scope, b"origin")
        changes_state = scope["type"] == "websocket" or scope.get("method", "GET") not in _SAFE_METHODS
        if origin is None:
            site = _header(scope, b"sec-fetch-site")
            if changes_state and site is not None and site not in ("same-origin", "none"):
                return f"no Origin and Sec-Fetch-Site {site[:20]!r}"
            return None
        parts = urlsplit(origin)
        try:
            seen = (parts.scheme, _host_and_port(parts.netloc, parts.scheme))
        except ValueError:
            seen = None
        if seen != (http_scheme, host):
            return f"Origin {origin[:80]!r} is not {http_scheme}://{host_value[:80]}"
        return None

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole request body, or None once it exceeds ``max_body_bytes``."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the app sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {bytes(key).lower() for key, _ in message.get("headers", ())}
            extra = [(key, value) for key, value in SECURITY_HEADERS if key not in present]
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return send_with_headers


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
