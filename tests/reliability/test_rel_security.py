"""Security of the central server: every route's authentication, site isolation, limits, secrets at rest.

The routes are enumerated from the FastAPI app itself, so a new endpoint is covered (or fails the
classification test) without editing this file. Glossary signature tampering, a wrong key and a
downgrade replay are covered end to end in ``tests/server/test_e2e.py``
(``test_glossary_publish_pull_tamper_rollback_downgrade``); login CSRF in ``tests/server/test_console.py``.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.testclient import TestClient

from server.core.config import ServerSettings
from server.main import create_app
from tests.support.glossaries import small_glossary

ADMIN_USER = "it-admin"
ADMIN_PASSWORD = "correct-horse-battery-9"
RATE_PER_MINUTE = 30

#: Routes anyone may call (everything else must be classified below).
PUBLIC = {("GET", "/api/v1/health"), ("GET", "/"), ("GET", "/console/login"), ("POST", "/console/login")}


@dataclass
class Server:
    client: TestClient
    db_path: Path
    home: Path
    tokens: dict[str, str]
    device_ids: dict[str, int]
    revoked_token: str


def _row(**changes: object) -> dict[str, object]:
    row = {"day": "2026-11-28", "source": "ja", "target": "vi", "direction": "to_resident", "kind": "turn"}
    return {**row, "count": 1, **changes}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("security-server")
    settings = ServerSettings(
        home=home,
        database_url=f"sqlite:///{home / 'server.db'}",
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        password_time_cost=1,
        password_memory_kib=8192,
        publish_bundled_glossary=False,
        device_requests_per_minute=RATE_PER_MINUTE,
    )
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        admin = (ADMIN_USER, ADMIN_PASSWORD)
        files = {"file": ("g.json", small_glossary("one").canonical_json(), "application/json")}
        assert client.post("/api/v1/admin/glossary", files=files, auth=admin).status_code == 200
        tokens, ids = {}, {}
        for site in ("north", "south", "gone"):
            reply = client.post("/api/v1/admin/devices", json={"site": site, "device": "c1"}, auth=admin)
            assert reply.status_code == 200, reply.text
            tokens[site], ids[site] = reply.json()["token"], reply.json()["device"]["id"]
        assert client.post(f"/api/v1/admin/devices/{ids['gone']}/revoke", auth=admin).status_code == 200
        yield Server(client, home / "server.db", home, tokens, ids, tokens.pop("gone"))


def _routes(server: Server) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, included routers flattened."""
    routes = []
    for context in iter_route_contexts(server.client.app.router.routes):  # type: ignore[attr-defined]
        if isinstance(context.route, APIRoute):
            routes.extend((method, context.path) for method in sorted(set(context.methods) - {"HEAD"}))
    return routes


def _kind(method: str, path: str) -> str:
    if (method, path) in PUBLIC:
        return "public"
    if path.startswith("/api/v1/admin/"):
        return "admin"
    if path.startswith("/console/"):
        return "console"
    if path.startswith("/api/v1/"):
        return "device"
    return "unclassified"


def _url(path: str, server: Server) -> str:
    return re.sub(r"\{[^}]+\}", str(server.device_ids["north"]), path)


def test_every_route_is_classified(server: Server) -> None:
    routes = _routes(server)
    kinds = {route: _kind(*route) for route in routes}
    assert "unclassified" not in kinds.values(), kinds
    for kind in ("device", "admin", "console"):
        assert kind in kinds.values()
    # Two device routes at least write data: the usage and the heartbeat.
    assert {("POST", "/api/v1/usage"), ("POST", "/api/v1/heartbeat")} <= set(routes)


def test_device_routes_refuse_missing_wrong_revoked_and_admin_credentials(server: Server) -> None:
    bad = {
        "missing": {},
        "wrong": {"Authorization": "Bearer " + "A" * 43},
        "revoked": {"Authorization": f"Bearer {server.revoked_token}"},
        "not bearer": {"Authorization": f"Basic {server.tokens['north']}"},
        "admin password": {"Authorization": "Basic aXQtYWRtaW46Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LTk="},
    }
    checked = 0
    for method, path in _routes(server):
        if _kind(method, path) != "device":
            continue
        for name, headers in bad.items():
            reply = server.client.request(method, _url(path, server), headers=headers, json={})
            assert reply.status_code == 401, f"{method} {path} with {name} credentials: {reply.status_code}"
            checked += 1
    assert checked >= 15


def test_admin_routes_refuse_missing_wrong_and_device_credentials(server: Server) -> None:
    token = server.tokens["north"]
    bad = {
        "missing": {},
        "wrong password": ("auth", (ADMIN_USER, "correct-horse-battery-8")),
        "unknown user": ("auth", ("root", ADMIN_PASSWORD)),
        "device token": {"Authorization": f"Bearer {token}"},
        "device token as password": ("auth", (ADMIN_USER, token)),
    }
    checked = 0
    for method, path in _routes(server):
        if _kind(method, path) != "admin":
            continue
        for name, value in bad.items():
            kwargs = {"auth": value[1]} if isinstance(value, tuple) else {"headers": value}
            reply = server.client.request(method, _url(path, server), json={}, **kwargs)  # type: ignore[arg-type]
            # Repeated wrong passwords lock the account and this client for a while (429).
            allowed = (401, 429) if isinstance(value, tuple) else (401,)
            assert reply.status_code in allowed, f"{method} {path} with {name}: {reply.status_code}"
            checked += 1
    assert checked >= 20


def test_console_routes_need_a_session_and_posts_need_the_csrf_token(server: Server) -> None:
    client = server.client
    console = [(m, p) for m, p in _routes(server) if _kind(m, p) == "console"]
    assert any(m == "POST" for m, _ in console)
    for method, path in console:  # no session, or a forged / device-token cookie: to the login page
        for cookie in (None, "forged", server.tokens["north"]):
            client.cookies.clear()
            if cookie:
                client.cookies.set("madoguchi_session", cookie, path="/console")
            reply = client.request(method, _url(path, server), follow_redirects=False, data={})
            assert reply.status_code in (303, 422), f"{method} {path} cookie={cookie}: {reply.status_code}"
            if reply.status_code == 303:
                assert reply.headers["location"] == "/console/login"
    client.cookies.clear()
    login = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    reply = client.post(
        "/console/login",
        data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    forms = {
        "/console/glossary/upload": {"files": {"file": ("g.json", b"{}", "application/json")}},
        "/console/glossary/publish": {"data": {"pending_id": "1"}},
        "/console/glossary/rollback": {"data": {"number": "1"}},
        "/console/logout": {"data": {}},
        "/console/packs/push": {"data": {"site_id": "1", "pack_id": "openjtalk-mei"}},
    }
    for method, path in console:
        if method != "POST":
            continue
        assert path in forms, f"new console form {path}: add it to this test"
        for token in (None, "forged-" + csrf[7:]):
            kwargs = dict(forms[path])
            data = dict(kwargs.pop("data", {}))
            if token:
                data["csrf_token"] = token
            reply = client.post(path, data=data, follow_redirects=False, **kwargs)
            assert reply.status_code == 403, f"POST {path} csrf={token}: {reply.status_code}"
    assert client.get("/console/", follow_redirects=False).status_code == 200  # still logged in
    client.cookies.clear()


def test_a_device_writes_only_its_own_site_and_reads_no_admin_data(server: Server) -> None:
    client = server.client
    north = {"Authorization": f"Bearer {server.tokens['north']}"}
    batch = {"batch_id": str(uuid.uuid4()), "rows": [_row(count=5)]}
    assert client.post("/api/v1/usage", json=batch, headers=north).status_code == 200
    for smuggled in ({"site": "south"}, {"device": "c1"}, {"site_id": 2}):
        body = {"batch_id": str(uuid.uuid4()), "rows": [_row(**smuggled)]}
        assert client.post("/api/v1/usage", json=body, headers=north).status_code == 422
        body = {"batch_id": str(uuid.uuid4()), "rows": [_row()], **smuggled}
        assert client.post("/api/v1/usage", json=body, headers=north).status_code == 422
    heartbeat = {"app_version": "1", "site": "south"}
    assert client.post("/api/v1/heartbeat", json=heartbeat, headers=north).status_code == 422
    # The south device re-sending north's batch id does not touch north's counts.
    south = {"Authorization": f"Bearer {server.tokens['south']}"}
    assert client.post("/api/v1/usage", json=batch, headers=south).status_code == 200
    totals = client.get(
        "/api/v1/admin/usage/totals", params={"by_site": True}, auth=(ADMIN_USER, ADMIN_PASSWORD)
    ).json()["data"]
    by_site = {row["site"]: row["count"] for row in totals if row["kind"] == "turn"}
    assert by_site.get("north") == 5
    assert by_site.get("south") == 5  # batch ids are per device: counted for south, never for north


def test_request_size_limits(server: Server) -> None:
    client = server.client
    north = {"Authorization": f"Bearer {server.tokens['north']}"}
    big = b'{"app_version": "' + b"x" * 2_000_000 + b'"}'
    for path in ("/api/v1/usage", "/api/v1/heartbeat"):
        reply = client.post(path, content=big, headers={**north, "Content-Type": "application/json"})
        assert reply.status_code == 413, path
    admin = (ADMIN_USER, ADMIN_PASSWORD)
    huge = {"file": ("g.json", b" " * (9 * 1024 * 1024), "application/json")}
    reply = client.post("/api/v1/admin/glossary", files=huge, auth=admin)
    assert reply.status_code in (413, 422) and "larger than" in reply.text
    reply = client.post(
        "/console/login", data={"username": "x" * 5_000_000, "password": "p", "csrf_token": "t"}
    )
    assert reply.status_code in (400, 403, 413, 422)


def test_unauthenticated_uploads_are_cut_off_before_they_reach_the_disk(server: Server) -> None:
    """Forms are parsed before a route's login check: the body cap keeps strangers from filling /tmp."""
    client = server.client
    body = b"-" * (40 * 1024 * 1024)
    for path in ("/console/glossary/upload", "/api/v1/admin/glossary", "/api/v1/admin/packs"):
        files = {"file": ("g.csv", body, "text/csv")}
        # 413 (over the general cap) or, for the pack upload that checks credentials first, 401.
        assert client.post(path, files=files, follow_redirects=False).status_code in (401, 413), path
    if ("POST", "/api/v1/admin/packs") in _routes(server):
        # An admin may upload a model pack larger than the general cap (refused here as not a pack).
        files = {"file": ("pack.tar", body[: 12 * 1024 * 1024], "application/x-tar")}
        reply = client.post("/api/v1/admin/packs", files=files, auth=(ADMIN_USER, ADMIN_PASSWORD))
        assert reply.status_code == 422, reply.text[:200]

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"-" * (1024 * 1024)

    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    reply = client.post(
        "/console/glossary/upload", content=chunked(), headers=headers, follow_redirects=False
    )
    assert reply.status_code == 413
    assert client.get("/api/v1/health").status_code == 200


def test_per_device_rate_limit(server: Server) -> None:
    client = server.client
    token = client.post(
        "/api/v1/admin/devices", json={"site": "busy", "device": "c1"}, auth=(ADMIN_USER, ADMIN_PASSWORD)
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    codes = [
        client.post("/api/v1/heartbeat", json={"app_version": "1"}, headers=headers).status_code
        for _ in range(RATE_PER_MINUTE + 5)
    ]
    assert codes[:RATE_PER_MINUTE] == [200] * RATE_PER_MINUTE
    assert set(codes[RATE_PER_MINUTE:]) == {429}
    reply = client.get("/api/v1/glossary/current", headers=headers)
    assert reply.status_code == 429 and int(reply.headers["Retry-After"]) >= 1
    # Another device is not slowed down by the busy one.
    other = {"Authorization": f"Bearer {server.tokens['south']}"}
    assert client.get("/api/v1/glossary/current", headers=other).status_code == 200


def test_secrets_are_stored_only_as_hashes(server: Server) -> None:
    client = server.client
    assert client.get("/api/v1/admin/fleet", auth=(ADMIN_USER, ADMIN_PASSWORD)).status_code == 200
    secrets = [*server.tokens.values(), server.revoked_token, ADMIN_PASSWORD]
    raw = b"".join(p.read_bytes() for p in server.home.glob("server.db*"))
    for secret in secrets:
        assert secret.encode() not in raw
    with sqlite3.connect(server.db_path) as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM admins")]
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = [
            str(value) for table in tables for row in db.execute(f'SELECT * FROM "{table}"') for value in row
        ]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    for secret in secrets:
        assert not any(secret in cell for cell in cells)
    key = (server.home / "glossary-signing.key").stat()
    assert oct(key.st_mode & 0o777) == "0o600"


def test_no_secret_reaches_any_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A whole enroll → publish → pull → usage → heartbeat → console flow with every logger at DEBUG."""
    import asyncio

    import httpx

    from edge.sync.client import SyncClient
    from edge.sync.outbox import Outbox, TurnUsage

    settings = ServerSettings(
        home=tmp_path / "server",
        database_url=f"sqlite:///{tmp_path / 'server' / 'server.db'}",
        admin_user=ADMIN_USER,
        admin_password=ADMIN_PASSWORD,
        password_time_cost=1,
        password_memory_kib=8192,
    )
    caplog.set_level(logging.DEBUG)
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        admin = (ADMIN_USER, ADMIN_PASSWORD)
        token = client.post("/api/v1/admin/devices", json={"site": "s", "device": "d"}, auth=admin).json()[
            "token"
        ]
        wrong = client.post(
            "/api/v1/admin/devices", json={"site": "s", "device": "e"}, auth=(ADMIN_USER, "nope-nope")
        )
        assert wrong.status_code == 401
        login = client.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        client.post(
            "/console/login", data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": csrf}
        )
        session_cookie = client.cookies.get("madoguchi_session")
        assert session_cookie
        forged = ("Y" if token.startswith("X") else "X") + token[1:]  # never the real token

        async def device() -> None:
            transport = httpx.ASGITransport(app=app)
            http = httpx.AsyncClient(transport=transport, base_url="https://testserver")
            outbox = Outbox(tmp_path / "outbox.db")
            sync = SyncClient(
                "https://testserver", token, settings.public_key_path, tmp_path / "g", outbox, http=http
            )
            outbox.add_turn(TurnUsage(source="ja", target="vi", duration_s=1.0))
            report = await sync.sync_once(force_usage=True)
            assert report.batches_sent == 1 and report.heartbeat_ok
            bad = SyncClient("https://testserver", forged, settings.public_key_path, tmp_path / "g2",
                             outbox, http=http)  # fmt: skip
            assert (await bad.pull_glossary()).error_code == "unauthorized"
            await http.aclose()
            outbox.close()

        asyncio.run(device())
    private_key = (tmp_path / "server" / "glossary-signing.key").read_text()
    key_body = "".join(private_key.strip().splitlines()[1:-1])
    text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert len(caplog.records) > 5
    for secret in (token, forged, ADMIN_PASSWORD, "nope-nope", session_cookie, csrf, key_body):
        assert secret not in text
