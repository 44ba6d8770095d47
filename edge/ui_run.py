"""``madoguchi edge run``: load the models, serve the counter page, optionally beside a local server.

A counter that listens beyond loopback serves HTTPS with the device's local CA (``edge.tls``) unless
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from edge.config import EdgeSettings
from edge.errors import EdgeError
from edge.ui_pairing import LOOPBACK_HOSTS

_LOGGER = logging.getLogger(__name__)


@dataclass
class LocalServer:
    """A central server started beside the counter (``--with-local-server``)."""

    process: Any
    url: str
    home: Path


def start_local_server(home: Path, port: int, *, timeout_s: float = 60.0) -> LocalServer:
    """Start ``madoguchi server run`` on SQLite under ``home/local-server`` and wait until it answers.

    Raises:
        ConfigError: the server package is missing or the server did not come up.
    """
    import os
    import subprocess
    import sys
    import time

    import httpx

    from edge.errors import ConfigError

    try:
        import server.cli  # noqa: F401 - only checks that the server package is installed
    except ImportError as exc:
        raise ConfigError(
            f"the central server is not installed ({exc}); run without --with-local-server"
        ) from exc
    server_home = home / "local-server"
    server_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(server_home)}
    log = (server_home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "server", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(
                f"the local server exited (code {process.returncode}); see {server_home / 'server.log'}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2.0).status_code == 200:
                return LocalServer(process, url, server_home)
        time.sleep(0.5)
    process.terminate()
    raise ConfigError(
        f"the local server did not answer within {timeout_s:.0f} s; see {server_home / 'server.log'}"
    )


def enroll_with_local_server(local: LocalServer, settings: EdgeSettings) -> str:
    """Enroll this device with the local server unless it already is; returns what happened."""
    import os
    import socket
    import subprocess
    import sys

    from edge.errors import ConfigError
    from edge.sync import enroll, enrollment_paths

    paths = enrollment_paths(settings.home, settings.token_path, settings.pubkey_path)
    if paths.server_url == local.url and paths.token_path.exists():
        return f"already enrolled with {local.url}"
    env = {**os.environ, "MADOGUCHI_SERVER_HOME": str(local.home)}
    device = f"{socket.gethostname()}-{os.getpid()}"
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi", "server", "enroll", "--site", "local", "--device", device],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    token = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not token:
        raise ConfigError(f"could not enroll with the local server: {done.stderr.strip()[-200:]}")
    enroll(local.url, token, local.home / "glossary-signing.pub", settings.home)
    return f"enrolled as local/{device} with {local.url}"


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
    """Start the counter: load the models, serve the page and print its URL (and the pairing code)."""
    import os

    import typer
    import uvicorn

    from edge.config import load_settings
    from edge.errors import ConfigError
    from edge.pipeline import TurnPipeline
    from edge.ui import create_app
    from edge.ui_service import CounterOptions

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    local: LocalServer | None = None
    if with_local_server:
        try:
            local = start_local_server(settings.home, server_port)
            typer.echo(f"local central server: {local.url} (console {local.url}/, data {local.home})")
            typer.echo(enroll_with_local_server(local, settings))
        except (ConfigError, EdgeError) as exc:
            typer.echo(f"note: --with-local-server: {exc}; the counter runs standalone", err=True)
    typer.echo("loading models (speech recognition, translation, voices)...")
    pipeline = TurnPipeline.from_settings(settings)
    outbox = _open_outbox(settings)
    note = interpreter_note or os.environ.get("MADOGUCHI_INTERPRETER_NOTE")
    device: int | str | None = int(mic_device) if mic_device and mic_device.isdigit() else mic_device
    options = CounterOptions(
        idle_timeout_s=settings.idle_timeout_s,
        reviewed_only=settings.reviewed_only,
        mic_device=device,
        confirm_before_speaking=settings.confirm_before_speaking,
        pairing=not is_loopback(host),
    )
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
        from edge.tls import default_names, ensure_tls

        tls = ensure_tls(settings.home / "tls", default_names(host, settings.lan_names))
        ssl = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
        typer.echo(f"HTTPS for {', '.join(tls.names)}; install {tls.ca_cert} once on the tablets as a root")
    elif not is_loopback(host):
        typer.echo(
            "warning: plain HTTP on the LAN: audio and translations cross the network in clear", err=True
        )
    shown = "localhost" if is_loopback(host) else host
    scheme = "https" if https else "http"
    typer.echo(f"counter ready: {scheme}://{shown}:{port}/  (Ctrl+C to stop)")
    if options.pairing:
        typer.echo("tablets: press 'タブレット接続' (pair a tablet) on this device's screen to show a code")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", **ssl)  # type: ignore[arg-type]
    finally:
        if local is not None:
            local.process.terminate()
            with contextlib.suppress(Exception):
                local.process.wait(timeout=10)


def _open_outbox(settings: EdgeSettings) -> Any | None:
    try:
        from edge.outbox import Outbox
        from edge.sync import enrollment_paths

        return Outbox(enrollment_paths(settings.home).outbox_path)
    except EdgeError as exc:
        _LOGGER.warning("usage outbox unavailable: %s", exc)
        return None


def attach_glossary_reload(app: FastAPI, client: Any) -> None:
    """Swap each glossary that ``client`` (a ``SyncClient``) installs into the running counter."""
    from edge.ui_service import GlossaryInfo

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
    from edge.pack_sync import background_sync_for
    from edge.sync import client_from_home
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
