"""``madoguchi edge run``: load the models, serve the counter page, optionally beside a local server.

A counter that listens beyond loopback serves HTTPS with the device's local CA (``edge.counter.tls``) unless
told otherwise, and tablets pair with a code the clerk opens on the device's own screen (never printed
or logged). It keeps the glossary,
usage counts and heartbeats in sync in the background when the device is enrolled (a newly installed
glossary is swapped into the running counter).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
from typing import Any

from fastapi import FastAPI

from edge.config import EdgeSettings
from edge.counter.local_server import LocalServer, enroll_with_local_server, start_local_server
from edge.counter.pairing import LOOPBACK_HOSTS
from edge.errors import EdgeError
from edge.turn.load import stop_background_warming

_LOGGER = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True when ``host`` is a loopback listen address (no other machine can connect)."""
    return host in (*LOOPBACK_HOSTS, "localhost")


def use_https(host: str, wanted: bool | None) -> bool:
    """HTTPS unless asked otherwise, except on loopback (where browsers trust plain HTTP)."""
    return (not is_loopback(host)) if wanted is None else wanted


def run_command(
    port: int | None = None,
    host: str | None = None,
    with_local_server: bool = False,
    server_port: int = 8470,
    interpreter_note: str | None = None,
    https: bool | None = None,
    mic_device: str | None = None,
) -> None:
    """Start the counter: load the models, serve the page and print its URL (and the pairing code).

    SIGTERM (systemd, ``kill``) ends it like Ctrl+C, so the local server child is stopped on every exit.
    """
    import typer

    from edge.config import load_settings
    from edge.errors import ConfigError

    global _stop_signal
    _STOP_REQUESTED.clear()
    _stop_signal = 0
    signal.signal(signal.SIGTERM, _on_stop_signal)
    signal.signal(signal.SIGINT, _on_stop_signal)
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # the names the counter answers to
    local: LocalServer | None = None
    try:
        if with_local_server:
            try:
                local = start_local_server(settings.home, server_port)
                typer.echo(f"local central server: {local.url} (console {local.url}/, data {local.home})")
                typer.echo(enroll_with_local_server(local, settings))
            except (ConfigError, EdgeError) as exc:
                typer.echo(f"note: --with-local-server: {exc}; the counter runs standalone", err=True)
        _serve(settings, host, port, interpreter_note=interpreter_note, https=https, mic_device=mic_device)
    finally:
        if local is not None:
            local.stop()


#: Set by SIGINT/SIGTERM. The exception the handler raises can be lost: raised while the main thread runs
#: a finaliser or a library's callback during model loading, it is printed and dropped, and the counter
#: went on to serve (seen in CI: Ctrl+C while the models loaded, still serving 180 s later).
_STOP_REQUESTED = threading.Event()
_stop_signal = 0  # the signal that asked: the exit status is 128 + it


def _on_stop_signal(signum: int, frame: Any) -> None:
    """Ctrl+C and SIGTERM: remember the request, stop warming voices, then stop as Python does
    (KeyboardInterrupt, exit 143). A second signal while stopping is ignored: raised inside the
    interpreter's shutdown it would cut short the wait for a thread still inside ONNX Runtime (SIGABRT)."""
    global _stop_signal
    if _STOP_REQUESTED.is_set():
        return
    _stop_signal = signum
    _STOP_REQUESTED.set()
    stop_background_warming()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def exit_if_stop_requested() -> None:
    """Stop now if a SIGINT/SIGTERM came and its exception was lost (see ``_STOP_REQUESTED``)."""
    if _STOP_REQUESTED.is_set():
        raise SystemExit(128 + (_stop_signal or signal.SIGINT))


def _serve(
    settings: EdgeSettings,
    host: str,
    port: int,
    *,
    interpreter_note: str | None,
    https: bool | None,
    mic_device: str | None,
) -> None:
    """Load the models, build the app and serve it until stopped."""
    import os

    import typer
    import uvicorn

    from edge.counter.app import create_app
    from edge.counter.service import CounterOptions
    from edge.turn.pipeline import TurnPipeline

    typer.echo("loading models (speech recognition, translation, voices)...")
    pipeline = TurnPipeline.from_settings(settings)
    outbox = _open_outbox(settings)
    note = interpreter_note or os.environ.get("MADOGUCHI_INTERPRETER_NOTE")
    device: int | str | None = int(mic_device) if mic_device and mic_device.isdigit() else mic_device
    options = CounterOptions.from_settings(settings, mic_device=device, pairing=not is_loopback(host))
    if note:
        options = dataclasses.replace(options, interpreter_note=note)
    app = create_app(settings, pipeline=pipeline, outbox=outbox, options=options)
    _attach_sync(app, settings, outbox)
    status = app.state.counter.status()
    for row in status["languages"]:
        if row["notes"]:
            typer.echo(f"  {row['code']}: " + "; ".join(row["notes"]))
    glossary = status["glossary"]
    typer.echo(f"glossary {glossary['version']} ({glossary['source']})")
    https = use_https(host, https if https is not None else settings.https)
    ssl: dict[str, str] = {}
    if https:
        from edge.counter.tls import ca_fingerprint, default_names, ensure_tls

        tls = ensure_tls(settings.home / "tls", default_names(host, settings.lan_names))
        ssl = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
        typer.echo(f"HTTPS for {', '.join(tls.names)}; install {tls.ca_cert} once on the tablets as a root")
        typer.echo(f"  its SHA-256 fingerprint: {ca_fingerprint(tls.ca_cert)}")
    elif not is_loopback(host):
        typer.echo(
            "warning: plain HTTP on the LAN: audio and translations cross the network in clear", err=True
        )
    shown = "localhost" if is_loopback(host) else host
    scheme = "https" if https else "http"
    typer.echo(f"counter ready: {scheme}://{shown}:{port}/  (Ctrl+C to stop)")
    if options.pairing:
        typer.echo("tablets: press 'タブレット接続' (pair a tablet) on this device's screen to show a code")
    exit_if_stop_requested()  # before uvicorn takes the signals over
    uvicorn.run(app, host=host, port=port, log_level="warning", **ssl)  # type: ignore[arg-type]


def _open_outbox(settings: EdgeSettings) -> Any | None:
    try:
        from edge.sync.enrollment import enrollment_paths
        from edge.sync.outbox import Outbox

        return Outbox(enrollment_paths(settings.home).outbox_path)
    except EdgeError as exc:
        _LOGGER.warning("usage outbox unavailable: %s", exc)
        return None


def attach_glossary_reload(app: FastAPI, client: Any) -> None:
    """Swap each glossary that ``client`` (a ``SyncClient``) installs into the running counter."""
    from edge.counter.service import GlossaryInfo

    service = app.state.counter
    tasks: set[asyncio.Task[None]] = set()

    def on_glossary(installed: Any) -> None:
        statement = installed.statement
        info = GlossaryInfo(statement.version, "synced", statement.number)
        task = asyncio.get_running_loop().create_task(service.reload_glossary(installed.glossary, info))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    client.on_glossary = on_glossary


def _attach_sync(app: FastAPI, settings: EdgeSettings, outbox: Any | None) -> None:
    """Sync glossary, usage and heartbeats in the background when the device is enrolled."""
    from edge.sync.enrollment import client_from_home
    from edge.sync.packs import background_sync_for
    from models import PackStore

    store = PackStore(settings.store_dir)
    try:
        client = client_from_home(
            settings.home,
            token_path=settings.token_path,
            pubkey_path=settings.pubkey_path,
            pack_ids=lambda: [pack.id for pack in store.installed()],
        )
    except EdgeError:
        return
    from edge.engines import device_pack_report

    client.device_report = lambda: device_pack_report(settings, store)
    packs = background_sync_for(settings.home, store)
    if packs is not None:  # packs the server offers download in the background (used after a restart)
        client.on_heartbeat_reply = packs.on_heartbeat_reply
    if outbox is not None:
        client.outbox.close()
        client.outbox = outbox
    attach_glossary_reload(app, client)
    stop = asyncio.Event()

    @app.on_event("startup")
    async def _start_sync() -> None:
        app.state.sync_task = asyncio.create_task(client.run(stop))

    @app.on_event("shutdown")
    async def _stop_sync() -> None:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.state.sync_task, timeout=5)
        await client.aclose()
