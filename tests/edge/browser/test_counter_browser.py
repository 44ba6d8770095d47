"""The counter page in a real browser (Debian chromium driven by Playwright) with a fake microphone.

The edge app runs with the real pipeline (Whisper base + the English Piper voice). Chromium's fake
capture device plays a 16-bit WAV made from a real clip; the clerk holds the talk button, the resident
talks hands-free. Screenshots go to ``test-artifacts/screenshots/``; the end-of-speech → first-audio
latency measured in the page is printed (timing is reported, never asserted).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import fake_microphone_args, launch, require_tool
from tests.support.servers import serve_app

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.slow


def _fake_wav(source: Path, out: Path, seconds: float) -> Path:
    """A 16 kHz 16-bit mono WAV: the first ``seconds`` of ``source`` then 1.5 s of silence."""
    require_tool("sox", "sox")
    convert = ["sox", str(source), "-r", "16000", "-c", "1", "-b", "16", str(out)]
    subprocess.run([*convert, "trim", "0", str(seconds), "pad", "0", "1.5"], check=True)
    return out


@pytest.fixture(scope="module")
def server_url(default_store, whisper_base, tmp_path_factory) -> Iterator[str]:
    """The counter app with the real pipeline, served by uvicorn on 127.0.0.1."""
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.turn.pipeline import TurnPipeline

    home = tmp_path_factory.mktemp("edge-home")
    settings = EdgeSettings(home=home, packs_dir=default_store.root)
    pipe = TurnPipeline.from_settings(
        settings, pairs=[("ja", "en"), ("en", "ja")], warm=False, transcriber=whisper_base
    )
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    with serve_app(app) as url:
        yield url


def _launch(playwright, wav: Path):
    return launch(playwright, *fake_microphone_args(wav))


def _status(page) -> dict:
    return page.evaluate("fetch('/api/status').then(r => r.json())")


def _stats(page) -> dict:
    return page.evaluate("JSON.parse(JSON.stringify(window.madoguchiStats))")


def test_counter_in_the_browser(server_url: str, eval_dir: Path, tmp_path: Path) -> None:
    """Clerk push-to-talk, phrase, typed text, flip, end; then a resident hands-free with language ID."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ja_wav = _fake_wav(eval_dir / "speech" / "test_ja_2.wav", tmp_path / "ja.wav", 4.5)
    en_wav = _fake_wav(eval_dir / "speech" / "test_en_1.wav", tmp_path / "en.wav", 4.0)
    measured: dict[str, float] = {}
    console: list[str] = []  # a Content-Security-Policy violation would show here

    with sync_playwright() as p:
        # --- the clerk speaks Japanese to an English-speaking resident --------------------------------
        browser = _launch(p, ja_wav)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda message: console.append(message.text))
        page.set_default_timeout(90_000)
        page.goto(server_url + "/")
        expect(page.locator("body")).to_have_attribute("data-connected", "1")
        for code in ("vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es"):
            expect(page.locator(f"#picker button[data-lang='{code}']")).to_have_count(1)
        expect(page.locator("#picker button[data-lang='ne']")).to_contain_text("नेपाली")
        expect(page.locator("#glossary-version")).to_contain_text("sha256:")
        page.click("#picker button[data-lang='en']")
        expect(page.locator("body")).to_have_attribute("data-locked", "1")
        expect(page.locator("#promise")).to_contain_text("not recorded")

        talk = page.locator("#clerk-talk")
        talk.hover()
        pressed = time.monotonic()
        page.mouse.down()
        # While the button is held, the tentative transcript grows greyed on the clerk's side.
        page.wait_for_function("() => window.madoguchiStats.partials > 0")
        tentative = page.locator("#clerk-turns li.live .heard.tentative")
        expect(tentative).to_have_count(1)
        assert tentative.inner_text().strip() and tentative.get_attribute("lang") == "ja"
        page.screenshot(path=str(SCREENSHOTS / "counter-tentative-transcript.png"))
        measured["first_tentative_text_ms"] = _stats(page)["firstPartialMs"][0]
        page.wait_for_timeout(max(0, 4500 - (time.monotonic() - pressed) * 1000))
        page.mouse.up()
        translation = page.locator("#resident-turns li[data-turn-id='t1'] .translation")
        expect(translation).not_to_have_class("translation pending")
        expect(page.locator("#clerk-turns li.live")).to_have_count(0)  # the turn replaced it
        assert translation.inner_text().strip()
        assert translation.get_attribute("lang") == "en"
        heard = page.locator("#clerk-turns li[data-turn-id='t1'] .heard")
        assert heard.get_attribute("lang") == "ja" and heard.inner_text().strip()
        page.wait_for_function("() => window.madoguchiStats.chunksPlayed > 0")
        stats = _stats(page)
        assert stats["latenciesMs"], "first audio was not timed"
        measured["clerk_ptt_stop_to_first_audio_ms"] = stats["latenciesMs"][0]
        page.wait_for_function("() => window.madoguchiStats.serverTimingsMs.length > 0")
        measured["server_timings_ms"] = _stats(page)["serverTimingsMs"][0]
        back = page.locator("#clerk-turns li[data-turn-id='t1'] .back")
        expect(back).to_contain_text("no MT pack")
        page.screenshot(path=str(SCREENSHOTS / "counter-clerk-turn.png"))

        # a phrase from the book: shown and spoken in English without MT
        phrases = page.evaluate("fetch('/api/phrases').then(r => r.json())")
        first = phrases["situations"][0]["phrases"][0]
        page.click("#phrasebook summary")
        page.fill("#phrase-search", first["ja"][:6])
        page.click(f"button[data-phrase-id='{first['id']}']")
        phrase_turn = page.locator("#resident-turns li.phrase .translation")
        expect(phrase_turn).to_have_text(first["translations"]["en"])
        page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 2")
        page.wait_for_function(f"() => window.madoguchiStats.chunksStarted > {stats['chunksStarted']}")

        # typed text with markup: shown as text, glossary term marked
        page.fill("#clerk-text", "<script>window.__pwned = 1</script>住民票の写しですね")
        page.press("#clerk-text", "Enter")
        typed = page.locator("#clerk-turns li[data-turn-id='t3'] .heard")
        expect(typed).to_contain_text("<script>")
        page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 3")
        assert page.evaluate("window.__pwned") is None
        mark = typed.locator("mark[data-term-id='res.juminhyo_copy']")
        expect(mark).to_have_count(1)
        mark.click()
        expect(page.locator("#term-popup")).to_be_visible()
        expect(page.locator("#term-popup .body")).to_contain_text("住民票")
        page.keyboard.press("Escape")

        page.click("#flip")
        expect(page.locator("body")).to_have_class("flipped")
        page.screenshot(path=str(SCREENSHOTS / "counter-flipped.png"))
        page.click("#flip")

        assert _status(page)["conversations"]["turns"] == 3
        page.click("#end")
        expect(page.locator("#clerk-turns li")).to_have_count(0)
        expect(page.locator("#resident-turns li")).to_have_count(0)
        expect(page.locator("body")).to_have_attribute("data-locked", "0")
        page.wait_for_function("() => document.body.dataset.turns === '0'")
        conversations = _status(page)["conversations"]
        assert conversations["turns"] == 0 and conversations["holding_content"] == 0
        page.screenshot(path=str(SCREENSHOTS / "counter-ended.png"))
        browser.close()

        # --- a resident speaks English hands-free; language ID proposes English -----------------------
        browser = _launch(p, en_wav)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda message: console.append(message.text))
        page.set_default_timeout(90_000)
        page.goto(server_url + "/")
        expect(page.locator("body")).to_have_attribute("data-connected", "1")
        page.check("#handsfree")
        expect(page.locator("#resident-talk")).to_have_attribute("data-mode", "handsfree")
        page.click("#resident-talk")
        expect(page.locator("#resident-talk")).to_have_attribute("data-mode", "listening")
        expect(page.locator("#resident-talk")).to_contain_text("Listening")
        heard = page.locator("#resident-turns li[data-turn-id='t1'] .heard")
        expect(heard).not_to_have_class("heard pending")
        page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 1")
        page.click("#resident-talk")  # hands-free off
        assert heard.get_attribute("lang") == "en"
        assert any(word in heard.inner_text().lower() for word in ("edge", "transformer", "cutting"))
        expect(page.locator("#confirm")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "counter-resident-confirm.png"))
        page.click("#confirm-yes")
        expect(page.locator("body")).to_have_attribute("data-locked", "1")
        expect(page.locator("#resident-language")).to_have_text("English")

        # keyboard only: larger text, then the clerk holds Space to talk
        page.uncheck("#handsfree")
        page.focus("#font-up")
        page.keyboard.press("Enter")
        scale = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--font-scale')")
        assert float(scale) > 1
        page.focus("#clerk-text")
        page.evaluate("document.activeElement.blur()")
        page.keyboard.down("Space")
        page.wait_for_timeout(2500)
        page.keyboard.up("Space")
        page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 2")
        expect(page.locator("#clerk-turns li[data-turn-id='t2'].mine")).to_have_count(1)
        page.click("#end")
        page.wait_for_function("() => document.body.dataset.turns === '0'")
        browser.close()

    assert not [line for line in console if "Content Security Policy" in line], console
    print("BROWSER_LATENCY " + json.dumps(measured))


def test_pairing_from_the_device_screen_to_a_tablet(tmp_path: Path) -> None:
    """The clerk opens a code on the device's screen (not in the footer); a tablet that is not trusted
    gets the pairing page, a wrong code is refused, the right one connects it; the clerk unpairs all.
    No page breaks the Content-Security-Policy."""
    from playwright.sync_api import expect, sync_playwright

    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app

    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    options = CounterOptions(idle_timeout_s=0, pairing=True, trusted_hosts=("127.0.0.1",))
    app = create_app(settings, pipeline=None, options=options)
    gate = app.state.pairing
    console: list[str] = []
    with serve_app(app) as url, sync_playwright() as p:
        browser = _launch(p, tmp_path / "unused.wav")
        device = browser.new_context().new_page()
        device.on("console", lambda message: console.append(message.text))
        device.goto(f"{url}/")
        expect(device.locator("body")).to_have_attribute("data-connected", "1")
        device.click("#pairing-button")
        code = device.locator("#pairing-code")
        expect(code).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
        shown = code.inner_text()
        assert shown not in device.locator("#footer").inner_text()
        device.screenshot(path=str(SCREENSHOTS / "counter-pairing-code.png"))

        gate.trusted_hosts = frozenset({"::1"})  # from here on, 127.0.0.1 is a tablet on the LAN
        tablet = browser.new_context().new_page()
        tablet.on("console", lambda message: console.append(message.text))
        tablet.goto(f"{url}/")
        expect(tablet.locator("#pair-code")).to_be_visible()
        tablet.fill("#pair-code", "ZZZZ-ZZZZ" if shown != "ZZZZ-ZZZZ" else "YYYY-YYYY")
        tablet.click("#pair-form button")
        expect(tablet.locator("#pair-message")).to_contain_text("Wrong code")
        tablet.fill("#pair-code", shown.lower())
        tablet.click("#pair-form button")
        expect(tablet.locator("body")).to_have_attribute("data-connected", "1")
        expect(tablet.locator("#pairing-button")).to_be_hidden()  # pairing is managed on the device
        tablet.screenshot(path=str(SCREENSHOTS / "counter-paired.png"))

        gate.trusted_hosts = frozenset({"127.0.0.1"})  # the device's screen again
        device.reload()
        device.click("#pairing-button")
        device.click("#pairing-revoke")
        expect(device.locator("#pairing-left")).to_contain_text("unpaired 1")
        expect(device.locator("#pairing-count")).to_contain_text("0")
        assert gate.status()["paired"] == 0
        browser.close()
    assert not [line for line in console if "Content Security Policy" in line], console
