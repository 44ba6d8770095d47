"""The IT console: login with CSRF, fleet view, glossary upload → diff → publish, usage with suppression."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from bench.fleet import ServerProcess
from glossary.io import terms_csv, xlsx_bytes
from tests.support.central import LANGS, Admin, make_glossary, tax_term, usage_row
from tests.support.console import csrf_token


def test_login_needs_csrf_and_the_right_password(server: ServerProcess) -> None:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert client.get("/console/").status_code == 303
    page = client.get("/console/login")
    assert page.status_code == 200 and "ログイン" in page.text
    form = {"username": server.admin_user, "password": server.admin_password}
    assert client.post("/console/login", data={**form, "csrf_token": "forged"}).status_code == 403
    wrong = client.post(
        "/console/login", data={**form, "password": "nope-nope", "csrf_token": csrf_token(page.text)}
    )
    assert wrong.status_code == 401 and "違います" in wrong.text
    assert client.get("/console/").status_code == 303


def test_fleet_view_shows_heartbeats_and_stale_devices(
    server: ServerProcess, admin: Admin, console: httpx.Client
) -> None:
    live = admin.enroll("本庁舎", "counter-live")
    admin.enroll("本庁舎", "counter-<b>never</b>")
    reply = httpx.post(
        f"{server.url}/api/v1/heartbeat",
        json={
            "app_version": "0.1.0",
            "glossary_version": "v9-abc",
            "glossary_number": 9,
            "pack_ids": ["whisper-base"],
            "free_disk_bytes": 12_000_000_000,
            "last_error_code": "glossary_signature",
        },
        headers={"Authorization": f"Bearer {live}"},
    )
    assert reply.status_code == 200 and "server_time" in reply.json()
    page = console.get("/console/").text
    row = re.search(r'<tr class="[^"]*" data-device="本庁舎/counter-live">.*?</tr>', page, re.S)
    assert (
        row
        and "v9-abc" in row.group(0)
        and "whisper-base" in row.group(0)
        and "glossary_signature" in row.group(0)
    )
    assert 'class=""' in row.group(0)  # seen just now: not stale
    never = re.search(r'<tr class="stale" data-device="本庁舎/counter-&lt;b&gt;never&lt;/b&gt;">', page)
    assert never, "a device never seen is highlighted, and its name is escaped"
    assert "<b>never</b>" not in page
    assert "Fleet" in console.get("/console/?lang=en").text
    assert "Last seen" in console.get("/console/").text  # the language choice sticks


def test_upload_preview_publish_and_rollback(
    server: ServerProcess, admin: Admin, console: httpx.Client
) -> None:
    admin.publish(make_glossary("base"))
    before = admin.current_number()
    page = console.get("/console/glossary")
    csrf = csrf_token(page.text)
    changed = tax_term({lang: f"municipal inhabitant tax ({lang})" for lang in LANGS})
    csv_bytes = terms_csv([changed]).encode("utf-8")
    preview = console.post(
        "/console/glossary/upload",
        files={"file": ("tax.csv", csv_bytes, "text/csv")},
        data={"csrf_token": csrf},
    )
    assert preview.status_code == 200
    diff = re.search(r'<table id="diff">.*?</table>', preview.text, re.S).group(0)  # type: ignore[union-attr]
    assert "tax.juminzei" in diff and "res.juminhyo_copy" not in diff  # a one-domain CSV keeps other domains
    pending = re.search(r'name="pending_id" value="(\d+)"', preview.text).group(1)  # type: ignore[union-attr]
    assert console.post("/console/glossary/publish", data={"pending_id": pending}).status_code == 403
    done = console.post("/console/glossary/publish", data={"pending_id": pending, "csrf_token": csrf})
    assert done.status_code == 303
    assert admin.current_number() == before + 1
    versions = console.get("/console/glossary").text
    assert "upload tax.csv" in versions

    bad = terms_csv([changed]).replace("municipal inhabitant tax (vi)", "=HYPERLINK(1)").encode()
    refused = console.post(
        "/console/glossary/upload", files={"file": ("tax.csv", bad, "text/csv")}, data={"csrf_token": csrf}
    )
    assert refused.status_code == 422 and 'id="problems"' in refused.text and "pending_id" not in refused.text
    assert admin.current_number() == before + 1

    # The admin API takes the whole glossary as XLSX too (same reader as `madoguchi glossary validate`).
    workbook = xlsx_bytes(make_glossary("xlsx", extra_term=True))
    dry = admin.upload("glossary.xlsx", workbook, dry_run=True)
    assert dry.status_code == 200 and dry.json()["diff"]["added_terms"] == ["waste.sodai_gomi"]
    broken = admin.upload("tax.csv", bad)
    assert broken.status_code == 422 and "formula" in json.dumps(broken.json())
    assert admin.current_number() == before + 1

    rolled = console.post("/console/glossary/rollback", data={"number": before, "csrf_token": csrf})
    assert rolled.status_code == 303
    assert admin.current_number() == before + 2
    assert f"rollback to v{before}" in console.get("/console/glossary").text


def test_usage_page_suppresses_small_cells_and_exports_csv(
    server: ServerProcess, admin: Admin, console: httpx.Client
) -> None:
    site_a, site_b = f"east-{uuid.uuid4().hex[:6]}", f"west-{uuid.uuid4().hex[:6]}"
    tokens = {site_a: admin.enroll(site_a, "c1"), site_b: admin.enroll(site_b, "c1")}
    day = "2026-11-25"  # ISO week 2026-W48

    def post(site: str, target: str, kind: str, key: str, count: int) -> None:
        row = usage_row(target, kind=kind, key=key, count=count, day=day)
        reply = httpx.post(
            f"{server.url}/api/v1/usage",
            json={"batch_id": str(uuid.uuid4()), "rows": [row]},
            headers={"Authorization": f"Bearer {tokens[site]}"},
        )
        assert reply.status_code == 200

    post(site_a, "vi", "turn", "", 12)
    post(site_a, "ne", "turn", "", 3)
    post(site_a, "tl", "turn", "", 1)
    post(site_b, "es", "turn", "", 2)
    post(site_a, "vi", "term", "res.juminhyo_copy", 9)
    post(site_a, "vi", "term", "tax.juminzei", 2)
    export = console.get("/console/usage.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "site,week,language,turns"
    mine = [line for line in lines if line.startswith((site_a, site_b))]
    assert sorted(mine) == sorted(
        [f"{site_a},2026-W48,vi,12", f"{site_a},2026-W48,other,<5", f"{site_b},2026-W48,other,<5"]
    )
    page = console.get("/console/usage?weeks=0").text
    top = re.search(r'<table id="top-terms">.*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "res.juminhyo_copy" in top and "tax.juminzei" not in top
    site_week = re.search(r'<table id="site-week">.*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    assert f"<td>{site_b}</td><td>2026-W48</td><td>その他</td><td>&lt;5</td>" in site_week
    assert ">ne<" not in site_week and ">tl<" not in site_week
