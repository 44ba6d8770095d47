"""The counter's pairing routes: the tablet types a code; the device opens, closes and revokes pairing.

POST /api/pair              {code} from a tablet → the pairing cookie (403 wrong code, 429 too many
                            tries, 409 no pairing window open)
GET  /api/pairing           the device only: required / active / seconds left / tablets paired
POST /api/pairing/start     the device only: open a pairing window; the one reply with the code
POST /api/pairing/stop      the device only: close the window
POST /api/pairing/revoke    the device only: unpair every tablet (their connections close)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, WebSocket
from fastapi.responses import JSONResponse

from edge.counter.pairing import COOKIE_NAME, PairingGate, show_code

_DEVICE_ONLY: Final = "pairing is managed on the counter device's own screen"
_NO_PAIRING: Final = "this counter listens on loopback only: tablets cannot reach it, so nothing to pair"
_MESSAGES: Final = {
    "wrong": (403, "wrong code; look at the counter device's screen"),
    "limited": (429, "too many wrong codes; wait a minute, then type the code shown on the device"),
    "locked": (429, "too many wrong codes from this tablet; ask the clerk to start pairing again"),
    "closed": (409, "no pairing code is open; ask the clerk to press 'pair a tablet' on the device"),
}


def _client(request: Request | WebSocket) -> str:
    return request.client.host if request.client else "unknown"


def _device_only(gate: PairingGate, request: Request) -> None:
    """Refuse a pairing-management call that does not come from the counter device itself."""
    if not gate.required:
        raise HTTPException(status_code=409, detail=_NO_PAIRING)
    if _client(request) not in gate.trusted_hosts:
        raise HTTPException(status_code=403, detail=_DEVICE_ONLY)


async def _pair(gate: PairingGate, request: Request) -> JSONResponse:
    """Check a tablet's code: the pairing cookie, or why not (400, 403, 409, 429 with Retry-After)."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or len(code) > 64:
        return JSONResponse({"detail": 'send {"code": "ABCD-EFGH"}'}, status_code=400)
    result = gate.pair(_client(request), code)
    if result.token is None or result.expires_at is None:
        status, detail = _MESSAGES[result.outcome]
        headers = {"Retry-After": str(result.retry_after_s)} if result.retry_after_s else None
        return JSONResponse({"detail": detail, "reason": result.outcome}, status, headers=headers)
    response = JSONResponse({"paired": True, "expires_at": result.expires_at})
    response.set_cookie(
        COOKIE_NAME,
        result.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=max(1, int(result.expires_at - time.time())),
    )
    return response


def pairing_router(gate: PairingGate, service: Any) -> APIRouter:
    """The pairing routes over ``gate``; ``service`` (a ``CounterService``) holds the live connections."""
    router = APIRouter()

    @router.post("/api/pair")
    async def pair(request: Request) -> JSONResponse:
        return await _pair(gate, request)

    @router.get("/api/pairing")
    async def pairing_status(request: Request) -> JSONResponse:
        if gate.required:
            _device_only(gate, request)
        return JSONResponse(gate.status())

    @router.post("/api/pairing/start")
    async def start(request: Request) -> JSONResponse:
        _device_only(gate, request)
        code, closes_at = gate.start()
        return JSONResponse(
            {"code": show_code(code), "closes_in_s": round(closes_at - gate.clock())},
            headers={"Cache-Control": "no-store"},
        )

    @router.post("/api/pairing/stop")
    async def stop(request: Request) -> JSONResponse:
        _device_only(gate, request)
        gate.stop()
        return JSONResponse(gate.status())

    @router.post("/api/pairing/revoke")
    async def revoke(request: Request) -> JSONResponse:
        _device_only(gate, request)
        revoked = gate.revoke_all()
        closed = await close_paired_sockets(service)
        return JSONResponse({"revoked": revoked, "connections_closed": closed})

    return router


async def close_paired_sockets(service: Any) -> int:
    """Close every counter connection that came in with a pairing cookie (not the device's own)."""
    closed = 0
    for session in list(service.sessions.values()):
        if getattr(session.ws.state, "paired", False):
            with contextlib.suppress(Exception):
                await session.ws.close(code=1008, reason="pairing revoked")
            closed += 1
    return closed


async def close_at_expiry(websocket: WebSocket, gate: PairingGate, expires_at: float) -> None:
    """Close a paired tablet's connection when its pairing expires (cancel it when the page leaves)."""
    await asyncio.sleep(max(0.0, expires_at - gate.clock()))
    with contextlib.suppress(Exception):
        await websocket.close(code=1008, reason="pairing expired")
