"""Privacy on the wire: what the device sends never contains the conversation.

Turns with distinctive strings go through the real edge usage path (TurnResult → TurnUsage →
outbox → SyncClient) to a real server; every request the device sends is captured and searched.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from pathlib import Path

import httpx

from bench.fleet import ServerProcess
from edge.sync.client import SyncClient, SyncOptions
from edge.sync.outbox import Outbox, TurnUsage
from edge.turn.result import TurnResult

SECRETS = [
    "ZEBRA-7731-住民票をなくしました",
    "Nguyễn Thị Hoa sống ở Shinjuku",
    "山田花子さんの在留カード番号AB1234567",
    "माझो नाम राम हो",
]


def _forms(secret: str) -> list[bytes]:
    """Every way a string could appear in a request: raw, JSON-escaped, URL-encoded, pieces."""
    forms = {
        secret.encode("utf-8"),
        json.dumps(secret).strip('"').encode("ascii"),
        urllib.parse.quote(secret).encode("ascii"),
    }
    forms.update(word.encode("utf-8") for word in secret.split() if len(word) >= 5)
    return sorted(forms)


def test_nothing_of_the_conversation_leaves_the_device(sync_server: ServerProcess, tmp_path: Path) -> None:
    admin = httpx.Client(
        base_url=sync_server.url, auth=(sync_server.admin_user, sync_server.admin_password), timeout=30
    )
    token = admin.post("/api/v1/admin/devices", json={"site": "privacy", "device": "c1"}).json()["token"]
    sent: list[bytes] = []

    async def capture(request: httpx.Request) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        sent.append(str(request.url).encode() + b"\n" + headers.encode() + b"\n" + request.content)

    async def scenario() -> None:
        outbox = Outbox(tmp_path / "outbox.db")
        http = httpx.AsyncClient(timeout=30, event_hooks={"request": [capture]})
        client = SyncClient(
            sync_server.url,
            token,
            sync_server.public_key_path,
            tmp_path / "glossary",
            outbox,
            http=http,
            options=SyncOptions(app_version="0.1.0"),
        )
        for i, secret in enumerate(SECRETS):
            result = TurnResult(
                source_language="ja" if i % 2 else "vi",
                source_text=secret,
                target_language="vi" if i % 2 else "ja",
                target_text=secret[::-1] + " " + secret,
                back_translation=secret,
                terms_applied=["res.juminhyo_copy"],
                notices=[f"notice about {secret}"],
                timings_ms={"first_output": 700.0 + i},
            )
            outbox.add_turn(TurnUsage.from_turn(result, phrase_id="greeting.welcome"))
        client.last_error_code = None
        report = await client.sync_once(force_usage=True)
        assert report.batches_sent == 1 and report.turns_sent == len(SECRETS)
        await http.aclose()
        outbox.close()

    asyncio.run(scenario())
    assert any(b"/api/v1/usage" in r for r in sent) and any(b"/api/v1/heartbeat" in r for r in sent)
    for request in sent:
        for secret in SECRETS:
            for form in _forms(secret):
                assert form not in request, f"{form!r} left the device"
    # Nor is any of it stored on the device's disk by the sync path.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode("utf-8") not in data, path
    totals = admin.get("/api/v1/admin/usage/totals").json()["data"]
    # The four turns arrived; the server shows them only as "under 5" (small-cell suppression).
    assert {
        "site": None,
        "week": None,
        "language": None,
        "kind": "turn",
        "key": "",
        "count": None,
        "suppressed": True,
    } in totals
    admin.close()
