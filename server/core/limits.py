"""A cap on every request body, before any route (and before form parsing) sees it.

Multipart forms are parsed (and spooled to disk) before a route's authentication runs, so without a
cap anyone could make the server write gigabytes to its temp directory. Declared sizes above the cap
get 413 at once; chunked bodies are counted as they arrive and cut off at the cap.

Model pack uploads (hundreds of MB) get their own cap on one route only (``POST``, exact path), a
route that checks the admin's credentials *before* it reads a byte of the body: a stranger gets 401
with the body unread, whatever headers they send. No header lifts a cap.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LOGGER = logging.getLogger(__name__)

_TOO_LARGE = b'{"detail":"Payload too large"}'


class MaxBodySize:
    """ASGI middleware answering 413 to request bodies above ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int, streamed: dict[str, int] | None = None) -> None:
        """``streamed`` maps exact paths of ``POST`` routes that authenticate before reading their
        body (model pack uploads) to their own cap; every other request gets ``max_bytes``."""
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = dict(streamed or {})

    def _cap(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            return self.streamed.get(str(scope.get("path", "")), self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cap = self._cap(scope)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await _reply_413(send)
            return
        received = 0
        replied = False

        async def counting_receive() -> Message:
            nonlocal received, replied
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    if not replied:
                        replied = True
                        await _reply_413(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not replied:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)


async def _reply_413(send: Any) -> None:
    _LOGGER.info("refused a request body above the size limit")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_TOO_LARGE))],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_LARGE})
