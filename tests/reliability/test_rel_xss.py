"""XSS: glossary terms, phrases, device names and typed text holding markup are shown as text, everywhere.

A real Chromium (Debian's, through Playwright) opens the IT console of a real server and the counter page
of a real counter app. Payloads that would run (``<script>``, ``<img onerror>``) must never execute and
must appear as literal text where they are shown. CSRF of the console forms is in
``test_rel_security.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from glossary.io import terms_csv
from glossary.schema import Glossary, Phrase, Term
from tests.support.browser import chromium
from tests.support.glossaries import LANGS
from tests.support.servers import serve_app, sqlite_server

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="window.__xss=1;alert(2)">'


def evil_glossary(label: str) -> Glossary:
    term = Term(
        id="res.juminhyo_copy",
        domain="res",
        ja="住民票の写し",
        reading="じゅうみんひょうのうつし",
        variants=("住民票",),
        translations={lang: f"certificate {SCRIPT} {IMG} {label}" for lang in LANGS},
        easy_ja="すんでいる ところを しょうめいする かみ",
        explanation_en=f"explained {SCRIPT}",
    )
    phrase = Phrase(
        id="greeting.welcome",
        situation="greeting",
        ja=f"こんにちは{SCRIPT}",
        easy_ja="こんにちは",
        translations={lang: f"Hello {IMG}" for lang in LANGS},
    )
    return Glossary.from_items([term], [phrase])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


class Watch:
    """A page that records every dialog (an ``alert`` means a payload ran) and page error."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_inert(self) -> None:
        assert self.dialogs == [], f"a payload ran: {self.dialogs}"
        assert self.page.evaluate("window.__xss === undefined")
        assert self.page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
        scripts = self.page.evaluate("[...document.scripts].map(s => s.src || s.textContent.slice(0, 40))")
        assert not any("alert" in s for s in scripts), scripts

    def close(self) -> None:
        self.context.close()


def test_console_shows_markup_as_text(browser: Any, tmp_path: Path) -> None:
    server = sqlite_server(tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server.db'}")
    server.start()
    watch = Watch(browser)
    try:
        admin = httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password), timeout=60)
        files = {"file": ("g.json", evil_glossary("v1").canonical_json(), "application/json")}
        assert admin.post("/api/v1/admin/glossary", files=files).status_code == 200
        device = f"counter {IMG}"
        assert (
            admin.post("/api/v1/admin/devices", json={"site": f"本庁 {SCRIPT}", "device": device}).status_code
            == 200
        )
        page = watch.page
        page.goto(f"{server.url}/console/login?lang=en")
        page.fill("input[name=username]", server.admin_user)
        page.fill("input[name=password]", server.admin_password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(re.compile(r".*/console/$"))
        fleet = page.inner_text("body")
        assert IMG in fleet and SCRIPT in fleet  # the device and site names, as text
        page.goto(f"{server.url}/console/glossary")
        upload = tmp_path / f"terms {IMG}.csv"  # the preview names the file
        upload.write_text(terms_csv(evil_glossary("v2").terms.values()), encoding="utf-8")
        page.set_input_files("input[type=file]", str(upload))
        form = "form[action$='/glossary/upload']"
        page.click(f"{form} button[type=submit], {form} input[type=submit]")
        page.wait_for_load_state()
        preview = page.inner_text("body")
        assert "terms <img src=x onerror=" in preview, preview[:2000]  # the browser sends " as %22
        page.goto(f"{server.url}/console/usage")
        watch.assert_inert()
        assert watch.errors == []
        admin.close()
    finally:
        watch.close()
        server.stop()


@pytest.fixture
def counter_url(tmp_path: Path) -> Iterator[str]:
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.turn.pipeline import TurnPipeline

    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    pipe = TurnPipeline(None, {}, None, languages=("ja", "en"))  # text turns; MT missing is a notice
    options = CounterOptions(idle_timeout_s=0, interpreter_note=f"call 1234 {SCRIPT}")
    app = create_app(settings, pipeline=pipe, glossary=evil_glossary("counter"), options=options)
    with serve_app(app) as url:
        yield url


def test_counter_page_shows_markup_as_text(browser: Any, counter_url: str) -> None:
    watch = Watch(browser)
    page = watch.page
    try:
        page.goto(counter_url)
        page.wait_for_selector("body[data-turns]", state="attached")  # the socket is up
        page.click("#picker button[data-lang=en]")
        page.wait_for_selector("body[data-locked='1']", state="attached")
        typed = f"住民票の写しを{IMG}ください"
        page.fill("#clerk-text", typed)
        page.press("#clerk-text", "Enter")
        page.wait_for_selector("#clerk-turns li mark[data-term-id='res.juminhyo_copy']")
        assert f"を{IMG}ください" in page.inner_text("#clerk-turns")
        page.click("#clerk-turns li mark[data-term-id='res.juminhyo_copy']")  # the term's details
        page.wait_for_selector("#term-popup:not([hidden])")
        assert SCRIPT in page.inner_text("#term-popup")
        page.check("#furigana")  # the one HTML path: escaped ruby from the server
        page.fill("#clerk-text", f"住民票を{SCRIPT}")
        page.press("#clerk-text", "Enter")
        page.wait_for_function("() => document.querySelectorAll('#clerk-turns li').length >= 2")
        page.wait_for_function("() => document.querySelector('#clerk-turns').innerText.includes('alert(1)')")
        page.click("#phrasebook summary")
        page.wait_for_selector("#phrase-groups button[data-phrase-id='greeting.welcome']")
        assert SCRIPT in page.inner_text("#phrase-groups")
        page.click("#phrase-groups button[data-phrase-id='greeting.welcome']")
        page.wait_for_function(
            "() => document.querySelector('#resident-turns').innerText.includes('onerror')"
        )
        page.click("#interpreter-button")
        assert SCRIPT in page.inner_text("#interpreter-note")
        watch.assert_inert()
        assert watch.errors == []
    finally:
        watch.close()
