"""The counter page shows term corrections (underlined, one tap to undo) and verified phrase matches.

Real pipeline (Whisper base + English Piper voice, term correction and the spoken phrase book on by
default) behind the real app in Debian chromium; the microphone is chromium's fake capture device
playing speech the test synthesises with OpenJTalk's voice Mei (pyopenjtalk-plus).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.browser import fake_microphone_args, launch
from tests.support.servers import serve_app

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.slow


def _mei_wav(text: str, out: Path) -> Path:
    from bench.term_speech import synthesize
    from edge.audio.decode import write_wav

    speech = synthesize(text, 1.0, 0.0)
    padded = np.concatenate([np.zeros(4000), speech, np.zeros(24000)])
    write_wav(out, (np.clip(padded, -1, 1) * 32767).astype(np.int16), 16000)
    return out


@pytest.fixture(scope="module")
def server_url(default_store, whisper_base, tmp_path_factory) -> Iterator[str]:
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.turn.pipeline import TurnPipeline

    home = tmp_path_factory.mktemp("edge-home")
    settings = EdgeSettings(home=home, packs_dir=default_store.root, languages=["ja", "en"])
    pipe = TurnPipeline.from_settings(settings, pairs=[("ja", "en")], warm=False, transcriber=whisper_base)
    assert pipe.corrector is not None and pipe.phrase_matcher is not None  # on by default
    app = create_app(settings, pipeline=pipe, options=CounterOptions(idle_timeout_s=0))
    with serve_app(app) as url:
        yield url


def _clerk_says(p, server_url: str, wav: Path, hold_ms: int):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    browser = launch(p, *fake_microphone_args(wav))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    page.goto(server_url + "/")
    expect(page.locator("body")).to_have_attribute("data-connected", "1")
    page.click("#picker button[data-lang='en']")
    page.locator("#clerk-talk").hover()
    page.mouse.down()
    page.wait_for_timeout(hold_ms)
    page.mouse.up()
    page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 1")
    return browser, page


def test_correction_is_underlined_and_one_tap_undoes_it(server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wav = _mei_wav("児童手当の申請はこちらです。", tmp_path / "term.wav")
    with sync_playwright() as p:
        browser, page = _clerk_says(p, server_url, wav, 3500)
        heard = page.locator("#clerk-turns li[data-turn-id='t1'] .heard")
        corrected = heard.locator("mark.corrected[data-term-id='allow.jido_teate']")
        expect(corrected).to_have_count(1)
        expect(corrected).to_contain_text("児童手当")
        original = corrected.get_attribute("title") or ""
        assert original.startswith("聞き取り: ") and "児童手当" not in original
        page.screenshot(path=str(SCREENSHOTS / "counter-term-correction.png"))
        heard.locator("button.undo-correction").click()
        page.wait_for_function("() => window.madoguchiStats.turnsEnded >= 2")
        expect(heard).to_contain_text(original.removeprefix("聞き取り: "))
        expect(heard.locator("mark.corrected")).to_have_count(0)
        browser.close()


def test_a_phrase_book_sentence_is_marked_verified(server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    wav = _mei_wav("確認しますので、少々お待ちください。", tmp_path / "phrase.wav")
    with sync_playwright() as p:
        browser, page = _clerk_says(p, server_url, wav, 3500)
        translation = page.locator("#resident-turns li[data-turn-id='t1'] .translation")
        expect(translation).to_contain_text("✔")
        expect(page.locator("#clerk-turns li[data-turn-id='t1'] .verified")).to_contain_text("定型文")
        page.screenshot(path=str(SCREENSHOTS / "counter-verified-phrase.png"))
        browser.close()
