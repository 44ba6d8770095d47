"""Easy Japanese in a real browser (Debian chromium, Playwright): ruby rendered, markup stays text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import chromium
from tests.support.servers import serve_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The counter app with a text-only pipeline (no speech models needed for typed turns)."""
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.turn.pipeline import TurnPipeline

    home = tmp_path_factory.mktemp("edge-home")
    settings = EdgeSettings(home=home, packs_dir=home / "packs")
    pipe = TurnPipeline(None, {}, None, languages=("ja", "vi", "en"))
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    with serve_app(app) as url:
        yield url


def test_easy_japanese_ruby_in_the_page(server_url: str) -> None:
    """Pick やさしい にほんご, type a clerk sentence with markup: ruby shows, the markup is text."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(server_url + "/")
        expect(page.locator("body")).to_have_attribute("data-connected", "1")
        easy = page.locator("#picker button[data-lang='ja-easy']")
        expect(easy).to_contain_text("やさしい にほんご")
        easy.click()
        expect(page.locator("body")).to_have_attribute("data-locked", "1")
        page.fill("#clerk-text", "<img src=x onerror=window.pwned=1>住民票を14日までにご提出ください。")
        page.press("#clerk-text", "Enter")
        translation = page.locator("#resident-turns li .translation").first
        expect(translation.locator("ruby")).not_to_have_count(0)
        expect(translation.locator("rt").first).to_have_text("じゅうみんひょう")
        expect(translation).to_contain_text("してください")  # 出[だ]して: the rt sits inside
        assert translation.locator("img").count() == 0
        assert "<img src=x" in translation.inner_text()
        assert page.evaluate("window.pwned === undefined")
