"""One glossary validation for every upload format, names checked before they become paths,
query parameters validated (422), secret files private."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from glossary.errors import GlossaryError
from glossary.io import write_csv_dir
from glossary.schema import Glossary
from tests.support.central import make_glossary
from tests.support.inprocess import ADMIN, ADMIN_PASSWORD, ADMIN_USER, App, running_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from running_app(tmp_path_factory.mktemp("input-checks") / "home")


def _with_domain(domain: str) -> bytes:
    data = json.loads(make_glossary("json").canonical_json())
    data.pop("content_hash", None)
    data["terms"][0]["domain"] = domain
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def test_json_upload_with_a_path_as_domain_is_rejected(server: App, tmp_path: Path) -> None:
    client = server.client
    for domain in ("../../x", "tax/../../etc", "bogus"):
        files = {"file": ("glossary.json", _with_domain(domain), "application/json")}
        reply = client.post("/api/v1/admin/glossary", files=files, auth=ADMIN)
        assert reply.status_code == 422, (domain, reply.text)
        assert "domain" in json.dumps(reply.json())
    formula = json.loads(make_glossary("json").canonical_json())
    formula.pop("content_hash", None)
    formula["terms"][0]["translations"]["vi"] = "=HYPERLINK(1)"
    files = {"file": ("glossary.json", json.dumps(formula).encode(), "application/json")}
    reply = client.post("/api/v1/admin/glossary", files=files, auth=ADMIN)
    assert reply.status_code == 422 and "formula" in json.dumps(reply.json())
    good = {"file": ("glossary.json", make_glossary("json").canonical_json(), "application/json")}
    assert client.post("/api/v1/admin/glossary", files=good, auth=ADMIN).status_code == 200
    # Whatever got in some other way, writing it out never leaves the output directory.
    bad = Glossary.from_json(_with_domain("../../x"))
    with pytest.raises(GlossaryError, match="cannot name a file"):
        write_csv_dir(bad, tmp_path / "out")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "out").exists()


def test_query_parameters_are_validated(server: App) -> None:
    client = server.client
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    login = {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": csrf}
    assert client.post("/console/login", data=login, follow_redirects=False).status_code == 303
    for path in ("/console/usage", "/console/usage.csv"):
        for weeks in ("999999999", "-1", "many"):
            assert client.get(path, params={"weeks": weeks}).status_code == 422, (path, weeks)
        assert client.get(path, params={"weeks": "4"}).status_code == 200
    assert client.get("/console/glossary", params={"done": "<script>"}).status_code == 422
    totals = "/api/v1/admin/usage/totals"
    assert client.get(totals, params={"weeks": "999999999"}, auth=ADMIN).status_code == 422
    assert client.get(totals, params={"by_site": "perhaps"}, auth=ADMIN).status_code == 422


def test_database_key_and_home_are_private(server: App) -> None:
    home = server.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("server.db", "glossary-signing.key"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    for wal in home.glob("server.db-*"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0, wal
