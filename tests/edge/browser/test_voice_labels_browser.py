"""The resident sees how the chosen language is spoken (Debian chromium driven by Playwright).

Real voices: espeak-ng speaks Vietnamese (the low-quality machine voice), OpenJTalk Mei speaks Japanese
and so Easy Japanese, Tagalog has no voice. Choosing each shows its line on the resident's side instead
of failing; Easy Japanese is then spoken (audio chunks reach the page).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import launch
from tests.support.servers import serve_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(default_store, whisper_tiny, english_synthesizer, tmp_path_factory) -> Iterator[str]:
    """The counter app with Mei (ja), espeak-ng (vi), Piper (en), no Tagalog voice, Easy Japanese on."""
    from edge import engines
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.easy_ja import default_easy_japanese
    from edge.turn.pipeline import TurnPipeline

    languages = ["ja", "vi", "tl", "en"]
    settings = EdgeSettings(
        home=tmp_path_factory.mktemp("edge-home"), packs_dir=default_store.root, languages=languages
    )
    refs = engines.find_voices(settings, default_store)
    assert refs["ja"].pack_id == "openjtalk-mei" and refs["vi"].engine == "espeak-ng" and "tl" not in refs
    voices = {code: engines.load_voice(refs[code]) for code in ("ja", "vi")}
    pipe = TurnPipeline(
        whisper_tiny,
        {**voices, "en": english_synthesizer},
        languages=languages,
        easy_japanese=default_easy_japanese(),
    )
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    with serve_app(app) as url:
        yield url


def test_each_language_says_how_it_is_spoken(server_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch(p, "--autoplay-policy=no-user-gesture-required")
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url + "/")
        expect(page.locator("body")).to_have_attribute("data-connected", "1")
        line = page.locator("#resident-voice")
        expect(line).to_be_hidden()

        page.click("#picker button[data-lang='vi']")
        expect(line).to_have_attribute("data-voice", "machine")
        expect(line).to_have_text("Giọng máy, chất lượng thấp")
        assert line.get_attribute("lang") == "vi"

        page.click("#end")
        expect(line).to_be_hidden()
        page.click("#picker button[data-lang='tl']")
        expect(page.locator("body")).to_have_attribute("data-locked", "1")
        expect(line).to_have_attribute("data-voice", "none")
        expect(line).to_contain_text("Walang boses")
        expect(page.locator("#resident-notices .error")).to_have_count(0)

        page.click("#end")
        page.click("#picker button[data-lang='en']")  # a neural voice needs no line
        expect(page.locator("#resident-language")).to_be_visible()
        expect(line).to_be_hidden()

        page.click("#end")
        page.click("#picker button[data-lang='ja-easy']")
        expect(line).to_have_attribute("data-voice", "japanese")
        expect(line).to_have_text("にほんごの こえで よみあげます")
        page.fill("#clerk-text", "住民票の写しですね")
        page.press("#clerk-text", "Enter")
        expect(page.locator("#resident-turns li ruby").first).to_be_visible()
        page.wait_for_function("() => window.madoguchiStats.chunksStarted > 0")
        browser.close()
    assert errors == []
