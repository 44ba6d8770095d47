"""The console's packs page: per device, the packs its heartbeat reported (from the real edge report),
what its languages lack, the machine-voice label, and the licence and attribution of distributed packs."""

from __future__ import annotations

import re

import httpx

from bench.fleet import ServerProcess
from edge.config import EdgeSettings
from edge.engines import device_pack_report
from tests.support.central import Admin, sign_and_add_packs
from tests.support.data import default_store


def _row(page: str, device: str) -> str:
    match = re.search(rf'<tr data-device="{re.escape(device)}">.*?</tr>', page, re.S)
    assert match, f"no row for {device}"
    return match.group(0)


def test_packs_page_shows_voices_lacks_and_credits(
    server: ServerProcess,
    admin: Admin,
    console: httpx.Client,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    store = default_store()
    settings = EdgeSettings(home=tmp_path, packs_dir=store.root, languages=["ja", "vi", "tl", "en"])
    report = device_pack_report(settings, store)
    token = admin.enroll("北庁舎", "counter-voices")
    admin.enroll("北庁舎", "counter-silent")
    beat = {"app_version": "0.1.0", "pack_ids": [p["id"] for p in report["packs"]], **report}
    reply = httpx.post(
        f"{server.url}/api/v1/heartbeat", json=beat, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    sign_and_add_packs(server, [store.get("openjtalk-mei").path], tmp_path)

    page = console.get("/console/packs").text
    row = _row(page, "北庁舎/counter-voices")
    assert 'data-pack="whisper-base"' in row and 'data-pack="openjtalk-mei"' in row
    assert 'data-pack="espeak-ng"' in row and "機械音声" in row
    lacking = re.search(r'data-lacking="voice">([^<]*)<', row)
    assert lacking and "tl" in lacking.group(1) and "ja" not in lacking.group(1)
    assert re.search(r'data-machine="1">[^<]*vi', row)
    mt = re.search(r'data-lacking="mt">([^<]*)<', row)
    assert mt and all(code in mt.group(1) for code in ("vi", "tl", "en"))
    assert "まだパックの詳細を報告していません" in _row(page, "北庁舎/counter-silent")
    credits = re.search(r'<tr data-pack="openjtalk-mei">.*?</tr>', page, re.S)
    assert (
        credits and "CC-BY-3.0" in credits.group(0) and "Nagoya Institute of Technology" in credits.group(0)
    )
    english = console.get("/console/packs?lang=en").text
    assert "Still lacking" in english and "machine voice (low quality)" in english
    assert "Licences and attribution" in english


def test_heartbeat_pack_details_are_codes_only(server: ServerProcess, admin: Admin) -> None:
    token = admin.enroll("北庁舎", "counter-strict")
    bad = {"app_version": "0.1.0", "packs": [{"id": "x", "kind": "tts", "attribution": "free text"}]}
    reply = httpx.post(
        f"{server.url}/api/v1/heartbeat", json=bad, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 422
    words = {"app_version": "0.1.0", "packs": [{"id": "こんにちは 住民票", "kind": "tts"}]}
    reply = httpx.post(
        f"{server.url}/api/v1/heartbeat", json=words, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 422
    # nothing of either was stored: the fleet still shows no packs for this device
    assert admin.fleet()["北庁舎/counter-strict"]["pack_ids"] == []
