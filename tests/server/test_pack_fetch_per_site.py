"""A device fetches a pack release's manifest and files only if the release is offered to its site: a
held release, one pushed only to another site and a held newer version of a pack offered to every site
all answer 404, like an unknown pack; once pushed to the device's site they answer 200. Adding a stored
release again keeps its offer unless IT says otherwise, and says what changed. The console's packs page
tells each pack's newest release's offer truthfully and lets IT push a held newer version to one site."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.fleet import ServerProcess
from tests.support.central import Admin, sign_and_add_packs
from tests.support.cli import run_madoguchi
from tests.support.console import csrf_token, push_section
from tests.support.data import kokoro_store

MEI = "openjtalk-mei"  # held, pushed to the east site only (then to the west site)
ZH_VOICE = "kokoro-zh-zf_xiaobei"  # held, pushed nowhere
ES_VOICE = "kokoro-es-ef_dora"  # 1.0 offered to every site; a newer 1.1 held
JA_VOICE = "kokoro-ja-jf_alpha"  # held, then re-added
PT_VOICE = "kokoro-pt-pf_dora"  # 1.0 offered to every site, then a held 1.1 pushed to the east site
EAST, WEST = "東庁舎", "西庁舎"


def _newer_copy(pack_dir: Path, tmp: Path, version: str) -> Path:
    """The pack with the same files and another version in its ``pack.json`` (IT signs it afresh)."""
    copy = tmp / pack_dir.name
    copy.mkdir()
    spec = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    (copy / "pack.json").write_text(json.dumps({**spec, "version": version}), encoding="utf-8")
    for item in pack_dir.iterdir():
        if item.name not in ("pack.json", "pack.sig"):
            (copy / item.name).symlink_to(item.resolve())
    return copy


@pytest.fixture(scope="module")
def fleet(server: ServerProcess, admin: Admin, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One counter at each of two sites; Mei and the Mandarin voice held; the Spanish voice 1.0 offered
    to every site and its 1.1 held."""
    store = kokoro_store()
    tokens = {EAST: admin.enroll(EAST, "counter-1"), WEST: admin.enroll(WEST, "counter-1")}
    spanish = store.get(ES_VOICE).path
    sign_and_add_packs(server, [spanish], tmp_path_factory.mktemp("sign"))
    newer = _newer_copy(spanish, tmp_path_factory.mktemp("newer"), "1.1")
    held = [store.get(MEI).path, store.get(ZH_VOICE).path, newer]
    sign_and_add_packs(server, held, tmp_path_factory.mktemp("sign"), "--hold")
    versions = {MEI: store.get(MEI).spec.version, ZH_VOICE: store.get(ZH_VOICE).spec.version}
    files = {ES_VOICE: "ef_dora.bin", MEI: "mei_normal.htsvoice", ZH_VOICE: "zf_xiaobei.bin"}
    return {
        "tokens": tokens,
        "versions": versions,
        "files": files,
        "es_version": store.get(ES_VOICE).spec.version,
    }


def _fetch(server: ServerProcess, token: str, pack_id: str, version: str, file: str) -> tuple[int, int]:
    """The status of the release's manifest and of one of its files, as a device of the token's site."""
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{server.url}/api/v1/packs/{pack_id}/{version}"
    manifest = httpx.get(f"{base}/manifest", headers=headers, timeout=30)
    data = httpx.get(f"{base}/files/{file}", headers=headers, timeout=30)
    if manifest.status_code == 200:
        assert manifest.json()["pack"]["id"] == pack_id and manifest.json()["pack"]["version"] == version
    for reply in (manifest, data):
        if reply.status_code == 404:  # no hint that a held release exists
            assert reply.json() == {"detail": "Pack not found"}
    return manifest.status_code, data.status_code


def _offer_cell(page: str, pack_id: str) -> str:
    row = re.search(rf'<tr data-pack="{re.escape(pack_id)}">.*?</tr>', page, re.S)
    assert row, f"no licence row for {pack_id}"
    return row.group(0).rsplit("<td", 1)[1]  # the last column: to whom it is offered


def _push(console: httpx.Client, site: str, pack_id: str) -> None:
    page = console.get("/console/packs").text
    site_id = re.search(r'name="site_id" value="(\d+)"', push_section(page, site))
    assert site_id
    form = {"site_id": site_id.group(1), "pack_id": pack_id, "csrf_token": csrf_token(page)}
    assert console.post("/console/packs/push", data=form).status_code == 303


def test_only_releases_offered_to_the_devices_site_can_be_fetched(
    server: ServerProcess,
    fleet: dict[str, Any],
    console: httpx.Client,
) -> None:
    east, west = fleet["tokens"][EAST], fleet["tokens"][WEST]
    mei = (MEI, fleet["versions"][MEI], fleet["files"][MEI])
    zh = (ZH_VOICE, fleet["versions"][ZH_VOICE], fleet["files"][ZH_VOICE])
    es_old = (ES_VOICE, fleet["es_version"], fleet["files"][ES_VOICE])
    es_new = (ES_VOICE, "1.1", fleet["files"][ES_VOICE])
    unknown = _fetch(server, east, "no-such-pack", "1.0", "x.bin")
    assert unknown == (404, 404)
    # held: nobody gets it, and the answer is the same as for an unknown pack
    for token in (east, west):
        assert _fetch(server, token, *mei) == unknown
        assert _fetch(server, token, *zh) == unknown
        assert _fetch(server, token, *es_new) == unknown  # a held newer version of an all-sites pack
        assert _fetch(server, token, *es_old) == (200, 200)  # the all-sites release still works
    _push(console, EAST, MEI)
    assert _fetch(server, east, *mei) == (200, 200)
    assert _fetch(server, west, *mei) == (404, 404)  # pushed to another site only
    _push(console, WEST, MEI)
    assert _fetch(server, west, *mei) == (200, 200)
    for token in (east, west):  # pushing one pack opens no other
        assert _fetch(server, token, *zh) == (404, 404)
        assert _fetch(server, token, *es_new) == (404, 404)
    _push(console, EAST, ES_VOICE)  # a push of a pack offers its newest release to that site
    assert _fetch(server, east, *es_new) == (200, 200)
    assert _fetch(server, west, *es_new) == (404, 404)


def test_adding_a_stored_release_again_keeps_its_offer_unless_asked(
    server: ServerProcess, fleet: dict[str, Any], tmp_path: Path
) -> None:
    store = kokoro_store()
    east = fleet["tokens"][EAST]
    ja = (JA_VOICE, store.get(JA_VOICE).spec.version, "jf_alpha.bin")
    sign_and_add_packs(server, [store.get(JA_VOICE).path], tmp_path, "--hold")
    signed = tmp_path / JA_VOICE  # the signed copy IT added
    env = {"MADOGUCHI_SERVER_HOME": str(server.home), "MADOGUCHI_SERVER_DATABASE_URL": server.database_url}

    def add(*flags: str) -> str:
        done = run_madoguchi("server", "packs", "add", signed, *flags, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert "already stored, still held" in add()  # no flag: the hold stays
    assert _fetch(server, east, *ja) == (404, 404)
    assert "was held, now offered to the devices of every site" in add("--all-sites")
    assert _fetch(server, east, *ja) == (200, 200)
    assert "already stored, still offered to the devices of every site" in add()
    assert _fetch(server, east, *ja) == (200, 200)
    assert "was offered to every site, now held" in add("--hold")
    assert _fetch(server, east, *ja) == (404, 404)


def test_a_held_newer_version_is_shown_as_held_and_can_be_pushed_to_one_site(
    server: ServerProcess,
    fleet: dict[str, Any],
    console: httpx.Client,
    tmp_path: Path,
) -> None:
    east, west = fleet["tokens"][EAST], fleet["tokens"][WEST]
    older = kokoro_store().get(PT_VOICE)
    for step in ("older", "newer"):
        (tmp_path / step).mkdir()
    sign_and_add_packs(server, [older.path], tmp_path / "older")
    sign_and_add_packs(server, [_newer_copy(older.path, tmp_path, "1.1")], tmp_path / "newer", "--hold")
    page = console.get("/console/packs").text
    cell = _offer_cell(page, PT_VOICE)  # the newest release is held; every site still gets 1.0
    assert "全拠点に配布中" not in cell and "保留中" in cell and cell.startswith(' data-offer="held">1.1:')
    assert f'data-older="{older.spec.version}"' in cell and f"旧版 {older.spec.version}" in cell
    for site in (EAST, WEST):  # so 1.1 can be pushed to each site
        assert re.search(rf'data-push="{PT_VOICE}">.*?data-version="1.1"', push_section(page, site), re.S)
    _push(console, EAST, PT_VOICE)
    offers = {token: httpx.get(f"{server.url}/api/v1/packs", headers={"Authorization": f"Bearer {token}"},
                               timeout=30).json()["data"] for token in (east, west)}  # fmt: skip
    assert [o["version"] for o in offers[east] if o["id"] == PT_VOICE] == ["1.1"]
    assert [o["version"] for o in offers[west] if o["id"] == PT_VOICE] == [older.spec.version]
    assert _fetch(server, east, PT_VOICE, "1.1", "pf_dora.bin") == (200, 200)
    assert _fetch(server, west, PT_VOICE, "1.1", "pf_dora.bin") == (404, 404)
    page = console.get("/console/packs?lang=en").text
    cell = _offer_cell(page, PT_VOICE)
    assert cell.startswith(' data-offer="sites">1.1:') and f"pushed to: {EAST}" in cell
    assert f"sites it was not pushed to get the older version {older.spec.version}" in cell
    assert f'data-push="{PT_VOICE}"' not in push_section(page, EAST)
    assert f'data-push="{PT_VOICE}"' in push_section(page, WEST)
