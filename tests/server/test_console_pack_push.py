"""Pushing a pack to one site from the console: a held release is offered only to the sites IT pushes it
to; the real device pack sync of that site then installs it; the form needs a console login and its CSRF
token; a pack for languages the site does not use can be pushed, and the page says what it adds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.fleet import ServerProcess
from edge.sync.packs import PackSync, PackSyncOptions, offers_from_reply
from models import PackStore
from tests.support.central import Admin, sign_and_add_packs
from tests.support.console import csrf_token, push_section
from tests.support.data import kokoro_store

MEI = "openjtalk-mei"
ZH_VOICE = "kokoro-zh-zf_xiaobei"
EAST, WEST, SOUTH = "東庁舎", "西庁舎", "南庁舎"


def _beat(server: ServerProcess, token: str, languages: list[str]) -> dict[str, Any]:
    """A heartbeat of a device with Whisper only (so every voice is lacking) and these languages."""
    asr = {"id": "whisper-base", "kind": "asr", "languages": languages, "license": "MIT"}
    body = {"app_version": "0.1.0", "pack_ids": ["whisper-base"], "packs": [asr], "languages": languages}
    reply = httpx.post(
        f"{server.url}/api/v1/heartbeat", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _choice(section: str, pack_id: str) -> str:
    match = re.search(rf'<tr data-push="{re.escape(pack_id)}">.*?</tr>', section, re.S)
    assert match, f"{pack_id} is not offered for pushing"
    return match.group(0)


@pytest.fixture(scope="module")
def held(server: ServerProcess, admin: Admin, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two sites with one counter each, and Mei and the Kokoro Mandarin voice stored held."""
    store = kokoro_store()
    east = admin.enroll(EAST, "counter-1")
    west = admin.enroll(WEST, "counter-1")
    south = admin.enroll(SOUTH, "counter-1")
    _beat(server, east, ["ja", "vi"])
    _beat(server, west, ["ja", "en"])
    _beat(server, south, ["ja", "zh"])
    key = sign_and_add_packs(  # held: offered to no site yet
        server, [store.get(MEI).path, store.get(ZH_VOICE).path], tmp_path_factory.mktemp("sign"), "--hold"
    )
    return {"east": east, "west": west, "south": south, "pack_key": key}


def test_held_packs_reach_no_site_and_the_page_says_what_each_adds(
    server: ServerProcess,
    held: dict[str, Any],
    console: httpx.Client,
) -> None:
    assert _beat(server, held["east"], ["ja", "vi"])["pack_offers"] == []
    page = console.get("/console/packs").text
    east = push_section(page, EAST)
    mei = _choice(east, MEI)
    assert re.search(r'data-fills="1">[^<]*ja', mei) and "data-outside" not in mei
    zh = _choice(east, ZH_VOICE)  # Mandarin is no language of this site's counters: allowed, and said so
    assert 'data-fills="0"' in zh and re.search(r'data-outside="1">[^<]*zh', zh)
    assert 'name="csrf_token"' in zh and "この拠点に配布" in zh
    credits = re.search(rf'<tr data-pack="{MEI}">.*?</tr>', page, re.S)
    assert credits and "保留中" in credits.group(0)
    english = push_section(console.get("/console/packs?lang=en").text, EAST)
    assert "Push to this site" in english and "languages no counter of this site uses" in english


def test_push_needs_the_csrf_token_and_a_console_login(
    server: ServerProcess,
    held: dict[str, Any],
    console: httpx.Client,
) -> None:
    page = console.get("/console/packs").text
    site_id = re.search(r'name="site_id" value="(\d+)"', push_section(page, EAST))
    assert site_id
    form = {"site_id": site_id.group(1), "pack_id": MEI}
    assert console.post("/console/packs/push", data=form).status_code == 403
    assert console.post("/console/packs/push", data={**form, "csrf_token": "forged"}).status_code == 403
    token = csrf_token(page)
    stranger = httpx.Client(base_url=server.url, timeout=30)
    reply = stranger.post("/console/packs/push", data={**form, "csrf_token": token})
    assert reply.status_code == 303 and reply.headers["location"] == "/console/login"
    device = {"Authorization": f"Bearer {held['east']}"}  # a device token is no console login
    reply = stranger.post("/console/packs/push", data={**form, "csrf_token": token}, headers=device)
    assert reply.status_code == 303 and reply.headers["location"] == "/console/login"
    assert console.post("/console/packs/push", data={**form, "pack_id": "no-such-pack", "csrf_token": token}
                        ).status_code == 404  # fmt: skip
    # nothing was pushed by any of these
    assert _beat(server, held["east"], ["ja", "vi"])["pack_offers"] == []
    assert f'data-push="{MEI}"' in push_section(console.get("/console/packs").text, EAST)


def test_a_pushed_pack_reaches_that_sites_devices_only(
    server: ServerProcess,
    held: dict[str, Any],
    console: httpx.Client,
    tmp_path: Path,
) -> None:
    page = console.get("/console/packs").text
    site_id = re.search(r'name="site_id" value="(\d+)"', push_section(page, SOUTH))
    assert site_id
    form = {"site_id": site_id.group(1), "pack_id": ZH_VOICE, "csrf_token": csrf_token(page)}
    reply = console.post("/console/packs/push", data=form)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/console/packs?pushed=")
    done = console.get(reply.headers["location"]).text
    assert re.search(rf'id="pushed">{ZH_VOICE} を拠点「{SOUTH}」に配布しました', done)
    assert f'data-push="{ZH_VOICE}"' not in push_section(done, SOUTH)  # offered there now
    assert f'data-push="{ZH_VOICE}"' in push_section(done, WEST)
    credits = re.search(rf'<tr data-pack="{ZH_VOICE}">.*?</tr>', done, re.S)
    assert credits and SOUTH in credits.group(0)

    south = _beat(server, held["south"], ["ja", "zh"])
    offers = offers_from_reply(south)
    assert [o.id for o in offers] == [ZH_VOICE] and south["wanted_packs"] == [ZH_VOICE]
    assert offers[0].kind == "tts" and offers[0].languages == ["zh"]
    assert _beat(server, held["west"], ["ja", "en"])["pack_offers"] == []
    # the device's real pack sync fetches, verifies and installs it
    store = PackStore(tmp_path / "store")
    options = PackSyncOptions(bandwidth_limit_bytes_per_s=None)
    device = PackSync(server.url, held["south"], held["pack_key"], store, tmp_path / "work", options=options)
    with device as sync:
        report = sync.sync(offers)
    assert report.installed == [ZH_VOICE] and report.failed == {}
    assert store.get(ZH_VOICE).spec.license.spdx == "Apache-2.0"
    # pushing again changes nothing
    assert console.post("/console/packs/push", data=form).status_code == 303
    assert [o["id"] for o in _beat(server, held["south"], ["ja", "zh"])["pack_offers"]] == [ZH_VOICE]


def test_ids_beyond_a_database_integer_are_refused_not_a_server_error(
    server: ServerProcess,
    admin: Admin,
    console: httpx.Client,
) -> None:
    huge, largest = str(10**20), str(2**31 - 1)
    assert console.get(f"/console/packs?pushed={huge}").status_code == 422
    assert console.get(f"/console/packs?pushed={largest}").status_code == 200  # no such push: no banner
    token = csrf_token(console.get("/console/packs").text)
    form = {"site_id": "1", "pack_id": MEI, "pending_id": "1", "number": "1", "csrf_token": token}
    for path, field in (
        ("/console/packs/push", "site_id"),
        ("/console/glossary/publish", "pending_id"),
        ("/console/glossary/rollback", "number"),
    ):
        reply = console.post(path, data={**form, field: huge})
        assert reply.status_code == 422, (path, reply.status_code, reply.text[:300])
    assert console.post("/console/packs/push", data={**form, "site_id": largest}).status_code == 404
    assert admin.http.post(f"/api/v1/admin/devices/{huge}/revoke").status_code == 422
    assert admin.http.post(f"/api/v1/admin/devices/{largest}/revoke").status_code == 404
