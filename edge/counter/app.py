"""The counter app: the page clerks and residents touch, its static files, its APIs and its WebSocket.

``create_app(settings, pipeline=...)`` builds the FastAPI app; ``madoguchi edge run`` (``edge.counter.run``)
serves it. The parts: ``edge.counter.protocol`` (WebSocket message schema, versioned),
``edge.counter.session`` (one connection = one conversation, in memory only), ``edge.counter.turns``
(turns through the pipeline), ``edge.counter.service`` (what connections share: pipeline, lock,
glossary, outbox, device mic), ``edge.counter.pairing`` and ``edge.counter.pair_api`` (tablets pair
with a code shown on the device) and ``edge.counter.guard`` (Host allow-list, same-origin checks, body
limits, security headers on everything).

HTTP:
    GET /                 the counter page (edge/counter/web/index.html); unpaired remote browsers get /pair
    GET /pair             the pairing page (type the 8-character code shown on the device)
    POST /api/pair, /api/pairing[/start|/stop|/revoke]   pairing (``edge.counter.pair_api``)
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

Before any of that, ``CounterGuard`` refuses requests whose ``Host`` is not one of the counter's names
(``CounterOptions.allowed_hosts``) or whose ``Origin`` is another site.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response, WebSocket
from fastapi.middleware import Middleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from edge.config import EdgeSettings
from edge.counter.guard import LOOPBACK_NAMES, CounterGuard
from edge.counter.pair_api import close_at_expiry, pairing_router
from edge.counter.pairing import LOOPBACK_HOSTS, PairingGate
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


def counter_names(settings: EdgeSettings) -> tuple[str, ...]:
    """The names the counter answers to: loopback, plus the device's LAN names when it listens on the LAN."""
    if settings.host in (*LOOPBACK_NAMES, *LOOPBACK_HOSTS):
        return (*LOOPBACK_NAMES, *settings.lan_names)
    from edge.counter.tls import default_names

    return tuple(dict.fromkeys((*LOOPBACK_NAMES, *default_names(settings.host, settings.lan_names))))


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
    gate = _pairing_gate(settings, options)
    app = FastAPI(
        title="madoguchi counter",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        middleware=[_guard(settings, options)],
    )
    app.state.counter = service
    app.state.pairing = gate
    _require_pairing(app, gate)
    app.include_router(_pages_router(gate, service))
    app.include_router(pairing_router(gate, service))
    app.include_router(_api_router(service, gate, options))
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def _pairing_gate(settings: EdgeSettings, options: CounterOptions) -> PairingGate:
    """Pairing is required when the options say so, else when the counter listens beyond loopback."""
    required = options.pairing
    if required is None:
        required = settings.host not in (*LOOPBACK_HOSTS, "localhost")
    return PairingGate(
        required=required, trusted_hosts=options.trusted_hosts, lifetime_s=settings.pairing_lifetime_s
    )


def _guard(settings: EdgeSettings, options: CounterOptions) -> Middleware:
    """The outermost middleware: Host allow-list, same-origin checks, body limits, security headers."""
    return Middleware(
        CounterGuard,  # type: ignore[arg-type]
        allowed_hosts=options.allowed_hosts or counter_names(settings),
        max_body_bytes=options.max_text_bytes,
    )


def _require_pairing(app: FastAPI, gate: PairingGate) -> None:
    """Unpaired remote clients reach the pairing page only: ``/`` redirects there, the rest is 403."""

    @app.middleware("http")
    async def pairing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        host = request.client.host if request.client else None
        if request.url.path in _OPEN_PATHS or gate.allows(host, request.cookies):
            return await call_next(request)
        if request.url.path == "/" and request.method == "GET":
            return RedirectResponse("/pair", status_code=303)
        return JSONResponse({"detail": _PAIR_FIRST}, status_code=403)


def _pages_router(gate: PairingGate, service: CounterService) -> APIRouter:
    """The counter page, the pairing page and the WebSocket (paired tablets until their pairing expires)."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @router.get("/pair", include_in_schema=False)
    async def pair_page() -> FileResponse:
        return FileResponse(WEB_DIR / "pair.html", headers={"Cache-Control": "no-store"})

    @router.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        host = websocket.client.host if websocket.client else None
        if gate.is_trusted(host):
            await serve_socket(service, websocket)
            return
        expires_at = gate.token_expiry(websocket.cookies)
        if expires_at is None:
            await websocket.close(code=1008, reason="pair this tablet first")
            return
        websocket.state.paired = True
        expiry = asyncio.create_task(close_at_expiry(websocket, gate, expires_at))
        try:
            await serve_socket(service, websocket)
        finally:
            expiry.cancel()

    return router


def _api_router(service: CounterService, gate: PairingGate, options: CounterOptions) -> APIRouter:
    """The JSON API the page reads: status, phrase book, screen texts, microphones, glossary terms."""
    router = APIRouter()

    @router.get("/api/status")
    async def status() -> JSONResponse:
        data = await asyncio.to_thread(service.status)  # reads pack manifests
        data["pairing_required"] = gate.required
        return JSONResponse(data)

    @router.get("/api/phrases")
    async def phrases() -> JSONResponse:
        return JSONResponse(
            {"situations": service.phrases.grouped(), "languages": service.resident_languages}
        )

    @router.get("/api/texts")
    async def texts() -> JSONResponse:
        data = screen_texts()
        data["interpreter_note"] = options.interpreter_note
        data["resident_languages"] = list(service.resident_languages)
        return JSONResponse(data)

    @router.get("/api/devices")
    async def devices() -> JSONResponse:
        from edge.audio.capture import list_input_devices

        try:
            found = await asyncio.to_thread(list_input_devices)
        except AudioDeviceError as exc:
            return JSONResponse({"devices": [], "selected": options.mic_device, "error": str(exc)})
        return JSONResponse({"devices": found, "selected": options.mic_device, "error": None})

    @router.get("/api/terms/{term_id}")
    async def term(term_id: str) -> JSONResponse:
        info = service.term_info([term_id], "en") if service.glossary is not None else {}
        if term_id not in info:
            raise HTTPException(status_code=404, detail="Term not found")
        return JSONResponse({"id": term_id, **info[term_id]})

    return router
