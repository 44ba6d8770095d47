"""The counter app: the page clerks and residents touch, its static files, its APIs and its WebSocket.

``create_app(settings, pipeline=...)`` builds the FastAPI app; ``madoguchi edge run`` (``edge.counter.run``)
serves it. The parts: ``edge.counter.protocol`` (WebSocket message schema, versioned),
``edge.counter.session`` (one connection = one conversation, in memory only), ``edge.counter.turns``
(turns through the pipeline),
``edge.counter.service`` (what connections share: pipeline, lock, glossary, outbox, device mic) and
``edge.counter.pairing`` (tablets pair with a code shown on the device).

HTTP:
    GET /                 the counter page (edge/counter/web/index.html); unpaired remote browsers get /pair
    GET /pair             the pairing page (type the 6-digit code shown on the device)
    POST /api/pair        {code} → sets the pairing cookie (403 on a wrong code)
    GET /api/pairing      the current code and whether pairing is required (the device itself only)
    GET /static/...       app.js, style.css, capture-worklet.js, pair.js
    GET /api/status       per language: ASR, MT (ja→x, x→ja), voice, what is missing; glossary version;
                          live conversations
    GET /api/phrases      the phrase book grouped by situation
    GET /api/texts        the fixed screen texts (promise, notices) in every language
    GET /api/devices      the device's input devices (sounddevice) for the clerk's microphone picker
    GET /api/terms/{id}   one glossary term (approved translations, explanation, review status)
    WS  /ws               the counter protocol (``edge.counter.protocol``)

Pairing: when ``CounterOptions.pairing`` is on (by default when the counter listens beyond loopback),
a client whose address is not in ``trusted_hosts`` needs the pairing cookie for everything but the
pairing page: APIs answer 403 and the WebSocket is closed before it opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, HTTPException, Request, Response, WebSocket
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from edge.config import EdgeSettings
from edge.counter.pairing import COOKIE_NAME, LOOPBACK_HOSTS, PairingGate
from edge.counter.phrases import screen_texts
from edge.counter.protocol import PROTOCOL_VERSION, ProtocolError
from edge.counter.service import CounterOptions, CounterService, GlossaryInfo, installed_glossary
from edge.counter.session import Session, serve_socket
from edge.errors import AudioDeviceError

__all__ = [
    "PROTOCOL_VERSION",
    "WEB_DIR",
    "CounterOptions",
    "CounterService",
    "GlossaryInfo",
    "ProtocolError",
    "Session",
    "create_app",
]

WEB_DIR: Final = Path(__file__).parent / "web"
_OPEN_PATHS: Final = frozenset({"/pair", "/api/pair", "/static/style.css", "/static/pair.js"})
_PAIR_FIRST: Final = "pair this tablet first: type the code shown on the counter device"


def _counter_glossary(settings: EdgeSettings) -> tuple[Any | None, GlossaryInfo | None]:
    """The synced signed glossary when one is installed, else the bundled one."""
    synced = installed_glossary(settings.home, settings.pubkey_path)
    if synced is not None:
        return synced
    from edge import engines

    return engines.load_glossary(), None


def create_app(
    settings: EdgeSettings | None = None,
    *,
    pipeline: Any | None = None,
    glossary: Any | None = None,
    outbox: Any | None = None,
    options: CounterOptions | None = None,
    capture_factory: Callable[..., Any] | None = None,
) -> FastAPI:
    """Build the counter app.

    Args:
        settings: Device settings (languages, idle timeout, listen host); default: the environment.
        pipeline: A loaded ``TurnPipeline`` (None: text-less status page; turns answer "not ready").
        glossary: The glossary for term marks, the phrase book and MT enforcement (default: the signed
            one synced from the central server, else the bundled one).
        outbox: An ``edge.sync.outbox.Outbox`` for usage counters (None: nothing is counted).
        options: Counter behaviour (default: from ``settings``).
        capture_factory: Opens the device microphone (default: sounddevice).
    """
    if settings is None:
        from edge.config import load_settings

        settings = load_settings()
    if options is None:
        options = CounterOptions.from_settings(settings)
    info: GlossaryInfo | None = None
    if glossary is None:
        glossary, info = _counter_glossary(settings)
    service = CounterService(
        pipeline,
        glossary=glossary,
        glossary_info=info,
        outbox=outbox,
        options=options,
        languages=tuple(settings.languages),
        capture_factory=capture_factory,
    )
    required = options.pairing
    if required is None:
        required = settings.host not in (*LOOPBACK_HOSTS, "localhost")
    gate = PairingGate(required=required, trusted_hosts=options.trusted_hosts)
    app = FastAPI(title="madoguchi counter", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.counter = service
    app.state.pairing = gate

    @app.middleware("http")
    async def pairing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        host = request.client.host if request.client else None
        if request.url.path in _OPEN_PATHS or gate.allows(host, request.cookies):
            return await call_next(request)
        if request.url.path == "/" and request.method == "GET":
            return RedirectResponse("/pair", status_code=303)
        return JSONResponse({"detail": _PAIR_FIRST}, status_code=403)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/pair", include_in_schema=False)
    async def pair_page() -> FileResponse:
        return FileResponse(WEB_DIR / "pair.html", headers={"Cache-Control": "no-store"})

    @app.post("/api/pair")
    async def pair(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str | int):
            return JSONResponse({"detail": 'send {"code": "123456"}'}, status_code=400)
        token = gate.pair(str(code))
        if token is None:
            return JSONResponse(
                {"detail": "wrong code; look at the counter device's screen"}, status_code=403
            )
        response = JSONResponse({"paired": True})
        response.set_cookie(
            COOKIE_NAME,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=365 * 24 * 3600,
        )
        return response

    @app.get("/api/pairing")
    async def pairing_code(request: Request) -> JSONResponse:
        host = request.client.host if request.client else None
        if gate.required and host not in gate.trusted_hosts:
            raise HTTPException(status_code=403, detail="the pairing code is shown on the device only")
        return JSONResponse({"required": gate.required, "code": gate.code if gate.required else None})

    @app.get("/api/status")
    async def status() -> JSONResponse:
        data = await asyncio.to_thread(service.status)  # reads pack manifests
        data["pairing_required"] = gate.required
        return JSONResponse(data)

    @app.get("/api/phrases")
    async def phrases() -> JSONResponse:
        return JSONResponse(
            {"situations": service.phrases.grouped(), "languages": service.resident_languages}
        )

    @app.get("/api/texts")
    async def texts() -> JSONResponse:
        data = screen_texts()
        data["interpreter_note"] = options.interpreter_note
        data["resident_languages"] = list(service.resident_languages)
        return JSONResponse(data)

    @app.get("/api/devices")
    async def devices() -> JSONResponse:
        from edge.audio.capture import list_input_devices

        try:
            found = await asyncio.to_thread(list_input_devices)
        except AudioDeviceError as exc:
            return JSONResponse({"devices": [], "selected": options.mic_device, "error": str(exc)})
        return JSONResponse({"devices": found, "selected": options.mic_device, "error": None})

    @app.get("/api/terms/{term_id}")
    async def term(term_id: str) -> JSONResponse:
        info = service.term_info([term_id], "en") if service.glossary is not None else {}
        if term_id not in info:
            raise HTTPException(status_code=404, detail="Term not found")
        return JSONResponse({"id": term_id, **info[term_id]})

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        host = websocket.client.host if websocket.client else None
        if not gate.allows(host, websocket.cookies):
            await websocket.close(code=1008, reason="pair this tablet first")
            return
        await serve_socket(service, websocket)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app
