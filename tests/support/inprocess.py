"""An in-process server (real SQLite, real argon2 with cheap parameters) and a raw ASGI driver."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.testclient import TestClient

from server.core.config import ServerSettings
from server.main import create_app

ADMIN_USER = "it-admin"
ADMIN_PASSWORD = "correct-horse-battery-9"
ADMIN = (ADMIN_USER, ADMIN_PASSWORD)


def settings_for(home: Path, **overrides: Any) -> ServerSettings:
    """Settings of a throwaway server in ``home`` with an admin and cheap argon2."""
    values: dict[str, Any] = {
        "home": home,
        "database_url": f"sqlite:///{home / 'server.db'}",
        "admin_user": ADMIN_USER,
        "admin_password": ADMIN_PASSWORD,
        "password_time_cost": 1,
        "password_memory_kib": 8192,
        "publish_bundled_glossary": False,
        **overrides,
    }
    return ServerSettings(**values)


@dataclass
class App:
    app: FastAPI
    client: TestClient
    home: Path

    def enroll(self, site: str, device: str) -> str:
        reply = self.client.post("/api/v1/admin/devices", json={"site": site, "device": device}, auth=ADMIN)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["token"])


def running_app(home: Path, **overrides: Any) -> Iterator[App]:
    """A created app with a TestClient (use as a fixture body)."""
    app = create_app(settings_for(home, **overrides))
    with TestClient(app, base_url="http://testserver") as client:
        yield App(app, client, home)


def basic(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass
class Drive:
    status: int | None
    pulled: int


def drive(app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: Iterable[bytes]) -> Drive:
    """Send a request straight to the ASGI app; count the body bytes the app actually pulled."""
    result = Drive(None, 0)
    body = iter(chunks)

    async def receive() -> dict[str, Any]:
        chunk = next(body, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        result.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and result.status is None:
            result.status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("192.0.2.7", 40000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return result
