"""End to end against a real uvicorn server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.fleet import ServerProcess
from edge.sync.client import SyncClient, SyncOptions
from edge.sync.outbox import Outbox, OutboxOptions, TurnUsage
from tests.support.central import Admin, Tamper, make_glossary, usage_row


def _device(
    server: ServerProcess, token: str, home: Path, http: httpx.AsyncClient | None = None
) -> SyncClient:
    outbox = Outbox(home / "outbox.db", OutboxOptions(backoff_initial_s=0.01, backoff_max_s=0.05))
    return SyncClient(
        server.url,
        token,
        server.public_key_path,
        home / "glossary",
        outbox,
        options=SyncOptions(app_version="0.1.0-test"),
        http=http,
        pack_ids=lambda: ["whisper-base", "quickmt-ja-en"],
    )


def _with_mitm(
    server: ServerProcess, token: str, home: Path, mutate: Callable[[httpx.Request, int, bytes], bytes]
) -> SyncClient:
    return _device(server, token, home, http=httpx.AsyncClient(transport=Tamper(mutate), timeout=30))


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_glossary_publish_pull_tamper_rollback_downgrade(
    server: ServerProcess, admin: Admin, tmp_path: Path
) -> None:
    token = admin.enroll("city-hall", "counter-1")
    home = tmp_path / "device"
    v1 = make_glossary("one")
    n1 = admin.current_number() + 1
    assert admin.publish(v1)["published"]["number"] == n1

    async def scenario() -> None:
        device = _device(server, token, home)
        async with device:
            first = await device.pull_glossary()
            assert (first.status, first.number) == ("updated", n1)
            assert device.installed is not None
            assert device.installed.glossary.content_hash == v1.content_hash
            again = await device.pull_glossary()
            assert again.status == "not_modified"

    _run(scenario())

    # Raw protocol: ETag round trip gives 304, and the body is what the signature covers.
    headers = {"Authorization": f"Bearer {token}"}
    reply = httpx.get(f"{server.url}/api/v1/glossary/current", headers=headers)
    assert reply.status_code == 200
    old_v1_body = reply.content
    etag = reply.headers["etag"]
    assert (
        httpx.get(
            f"{server.url}/api/v1/glossary/current", headers={**headers, "If-None-Match": etag}
        ).status_code
        == 304
    )

    v2 = make_glossary("two", extra_term=True)
    diff = admin.publish(v2, dry_run=True)
    assert diff["published"] is None
    assert diff["diff"]["added_terms"] == ["waste.sodai_gomi"]
    assert "res.juminhyo_copy" in diff["diff"]["changed_terms"]
    assert admin.publish(v2)["published"]["number"] == n1 + 1

    def flip_translation(request: httpx.Request, status: int, body: bytes) -> bytes:
        if status != 200 or not request.url.path.endswith("/glossary/current"):
            return body
        return body.replace(b"resident tax (vi, two)", b"resident tax (vi, evil)")

    def flip_signature(request: httpx.Request, status: int, body: bytes) -> bytes:
        if status != 200 or not request.url.path.endswith("/glossary/current"):
            return body
        envelope = json.loads(body)
        sig = bytearray(base64.b64decode(envelope["signature"]))
        sig[0] ^= 1
        envelope["signature"] = base64.b64encode(bytes(sig)).decode()
        return json.dumps(envelope).encode()

    def strip_signature(request: httpx.Request, status: int, body: bytes) -> bytes:
        if status != 200 or not request.url.path.endswith("/glossary/current"):
            return body
        envelope = json.loads(body)
        del envelope["signature"]
        return json.dumps(envelope).encode()

    def replay_v1(request: httpx.Request, status: int, body: bytes) -> bytes:
        return old_v1_body if request.url.path.endswith("/glossary/current") and status == 200 else body

    async def attacks() -> None:
        for mutate, code in (
            (flip_translation, "glossary_signature"),
            (flip_signature, "glossary_signature"),
            (strip_signature, "glossary_signature"),
        ):
            device = _with_mitm(server, token, home, mutate)
            async with device:
                result = await device.pull_glossary()
                assert (result.status, result.error_code) == ("refused", code)
                # The last good version stays installed and on disk.
                assert device.installed is not None and device.installed.statement.number == n1
                assert device.store.load().statement.number == n1  # type: ignore[union-attr]
                report = await device.sync_once()
                assert report.heartbeat_ok and code in report.error_codes
        device = _device(server, token, home)
        async with device:
            assert (await device.pull_glossary()).number == n1 + 1
        # A correctly signed but older version replayed at the device is a downgrade.
        device = _with_mitm(server, token, home, replay_v1)
        async with device:
            (home / "glossary" / "etag").unlink()
            result = await device.pull_glossary()
            assert (result.status, result.error_code) == ("refused", "glossary_downgrade")
            assert device.installed.statement.number == n1 + 1  # type: ignore[union-attr]
            await device.heartbeat()

    _run(attacks())
    seen = admin.fleet()["city-hall/counter-1"]
    assert seen["last_error_code"] == "glossary_downgrade"
    assert seen["glossary_number"] == n1 + 1
    assert seen["pack_ids"] == ["quickmt-ja-en", "whisper-base"]

    # Rollback publishes the first version's content as a new number: devices move forward to old content.
    rolled = admin.http.post("/api/v1/admin/glossary/rollback", json={"number": n1})
    assert rolled.status_code == 200 and rolled.json()["number"] == n1 + 2
    assert admin.http.post("/api/v1/admin/glossary/rollback", json={"number": 999}).status_code == 404

    async def after_rollback() -> None:
        device = _device(server, token, home)
        async with device:
            report = await device.sync_once()
            assert report.pull.status == "updated" and report.pull.number == n1 + 2
            assert device.installed.glossary.content_hash == v1.content_hash  # type: ignore[union-attr]
            assert device.store.load_previous().statement.number == n1 + 1  # type: ignore[union-attr]
            assert report.error_codes == []

    _run(after_rollback())
    seen = admin.fleet()["city-hall/counter-1"]
    assert seen["last_error_code"] is None and seen["glossary_number"] == n1 + 2
    versions = admin.http.get("/api/v1/admin/glossary/versions").json()
    assert [v["number"] for v in versions["data"]][:3] == [n1 + 2, n1 + 1, n1]
    assert versions["data"][0]["note"] == f"rollback to v{n1}"


def test_usage_counted_once_despite_lost_replies(server: ServerProcess, admin: Admin, tmp_path: Path) -> None:
    token = admin.enroll("ward-office", "counter-a")
    admin.publish(make_glossary())
    today = dt.date(2026, 11, 27)
    lost = {"usage": 0}

    def lose_first_usage_reply(request: httpx.Request, status: int, body: bytes) -> bytes:
        if request.url.path.endswith("/usage") and lost["usage"] == 0:
            lost["usage"] += 1
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return body

    async def scenario() -> None:
        device = _with_mitm(server, token, tmp_path / "dev", lose_first_usage_reply)
        async with device:
            for i in range(7):
                device.outbox.add_turn(
                    TurnUsage(
                        source="ja" if i % 2 else "vi",
                        target="vi" if i % 2 else "ja",
                        day=today,
                        term_ids=("res.juminhyo_copy", "tax.juminzei")[: 2 if i == 0 else 1 if i < 5 else 0],
                        phrase_id="greeting.welcome" if i < 5 else None,
                        duration_s=1.5,
                    )
                )
            first = await device.sync_once(force_usage=True)
            assert first.batches_sent == 0 and "server_unreachable" in first.error_codes
            assert device.outbox.pending_turns() == 7
            second = await device.sync_once(force_usage=True)
            assert second.batches_sent == 1 and second.turns_sent == 7
            assert device.outbox.pending_turns() == 0

    _run(scenario())
    assert lost["usage"] == 1
    totals = admin.totals("ward-office")
    assert totals["turn"] == 7
    assert totals["term:res.juminhyo_copy"] == 5
    assert totals["phrase:greeting.welcome"] == 5
    assert totals["duration:1to2s"] == 7
    # A term used once is not named: it is merged into "other", whose count (1) is suppressed.
    assert "term:tax.juminzei" not in totals and totals["term:other"] is None

    # The same batch posted twice by hand is acknowledged twice and counted once.
    batch = {
        "batch_id": str(uuid.uuid4()),
        "rows": [usage_row("ne", count=4)],
    }
    headers = {"Authorization": f"Bearer {token}"}
    one = httpx.post(f"{server.url}/api/v1/usage", json=batch, headers=headers).json()
    two = httpx.post(f"{server.url}/api/v1/usage", json=batch, headers=headers).json()
    assert (one["duplicate"], two["duplicate"]) == (False, True)
    assert admin.totals("ward-office")["turn"] == 11


def test_usage_payload_limits(server: ServerProcess, admin: Admin) -> None:
    token = admin.enroll("annex", "counter-b")
    url = f"{server.url}/api/v1/usage"
    headers = {"Authorization": f"Bearer {token}"}
    row = usage_row()

    def post(body: object) -> int:
        return httpx.post(url, json=body, headers=headers).status_code

    assert post({"batch_id": str(uuid.uuid4()), "rows": [{**row, "count": 5}]}) == 200
    assert post({"batch_id": str(uuid.uuid4()), "rows": [row], "note": "hello"}) == 422
    assert post({"batch_id": str(uuid.uuid4()), "rows": [{**row, "text": "住民票をください"}]}) == 422
    assert (
        post({"batch_id": str(uuid.uuid4()), "rows": [{**row, "kind": "term", "key": "住民票をください"}]})
        == 422
    )
    assert post({"batch_id": str(uuid.uuid4()), "rows": [{**row, "kind": "turn", "key": "res.x"}]}) == 422
    assert post({"batch_id": "not-a-uuid", "rows": [row]}) == 422
    assert post({"batch_id": str(uuid.uuid4()), "rows": [row] * 2001}) == 413
    padding = {"batch_id": str(uuid.uuid4()), "rows": [row], "pad": "x" * 300_000}
    assert post(padding) == 413
    hb = f"{server.url}/api/v1/heartbeat"
    assert httpx.post(hb, json={"app_version": "1", "free_text": "x"}, headers=headers).status_code == 422
    assert (
        httpx.post(hb, json={"app_version": "1", "last_error_code": "Bad Code!"}, headers=headers).status_code
        == 422
    )
    assert admin.totals("annex")["turn"] == 5  # only the valid batch counted


def test_tokens_no_bad_revoked_get_401(server: ServerProcess, admin: Admin) -> None:
    token = admin.enroll("branch", "kiosk")
    admin.publish(make_glossary())
    calls = [
        ("GET", "/api/v1/glossary/current", None),
        ("POST", "/api/v1/heartbeat", {"app_version": "1"}),
        (
            "POST",
            "/api/v1/usage",
            {
                "batch_id": str(uuid.uuid4()),
                "rows": [usage_row()],
            },
        ),
    ]

    def status(method: str, path: str, body: object, auth: str | None) -> int:
        headers = {"Authorization": auth} if auth else {}
        return httpx.request(method, f"{server.url}{path}", json=body, headers=headers).status_code

    for method, path, body in calls:
        assert status(method, path, body, None) == 401
        assert status(method, path, body, "Bearer not-a-real-token") == 401
        assert status(method, path, body, f"Basic {token}") == 401
    assert status("GET", "/api/v1/glossary/current", None, f"Bearer {token}") == 200
    device_id = admin.fleet()["branch/kiosk"]["id"]
    assert admin.http.post(f"/api/v1/admin/devices/{device_id}/revoke").status_code == 200
    for method, path, body in calls:
        assert status(method, path, body, f"Bearer {token}") == 401
    assert admin.fleet()["branch/kiosk"]["revoked"] is True
    assert httpx.get(f"{server.url}/api/v1/health").json()["status"] == "ok"
    assert httpx.get(f"{server.url}/api/v1/admin/fleet").status_code == 401
    assert httpx.get(f"{server.url}/api/v1/admin/fleet", auth=("admin", "wrong-password")).status_code == 401
