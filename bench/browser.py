"""Where users feel it: the counter page in Debian chromium with a fake microphone, per configuration.

For each configuration the real counter app (same ``TurnPipeline`` engines, per-config ASR options, with
or without recognition while speaking) is served on 127.0.0.1; chromium plays each clip as its
microphone (``--use-file-for-fake-audio-capture``) while the clerk holds the talk button for the clip's
length. The page itself measures (``window.madoguchiStats``): **release → first audio** of the
translation and **first tentative text** after the button was pressed. Clerk turns are ja → en (Whisper's
own translation when no MT pack is installed, as on the test store). Needs Playwright, chromium and sox;
rows say why when they cannot run.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import Clip
from bench.processes import serve_app
from bench.scoring import percentile

CHROMIUM = Path("/usr/bin/chromium")
TAIL_S = 1.0


def _fake_wav(clip: Clip, out: Path) -> Path:
    """The clip as 16 kHz 16-bit mono WAV with ``TAIL_S`` of silence (chromium loops the file)."""
    convert = ["sox", str(clip.path), "-r", "16000", "-c", "1", "-b", "16", str(out)]
    subprocess.run([*convert, "pad", "0", str(TAIL_S)], check=True, capture_output=True)
    return out


def _one_turn(playwright: Any, url: str, wav: Path, hold_s: float) -> dict[str, Any]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(120_000)
        page.goto(url + "/")
        page.wait_for_function("document.body.dataset.connected === '1'")
        page.click("#picker button[data-lang='en']")
        page.locator("#clerk-talk").hover()
        page.mouse.down()
        page.wait_for_timeout(int(hold_s * 1000))
        page.mouse.up()
        page.wait_for_function("window.madoguchiStats.turnsEnded > 0")
        page.wait_for_function(
            "window.madoguchiStats.latenciesMs.length > 0 || window.madoguchiStats.errors.length > 0",
            timeout=30_000,
        )
        stats = page.evaluate("JSON.parse(JSON.stringify(window.madoguchiStats))")
    finally:
        browser.close()
    return {
        "release_to_first_audio_ms": (stats["latenciesMs"] or [None])[0],
        "first_tentative_text_ms": (stats["firstPartialMs"] or [None])[0],
        "partials": stats["partials"],
        "server_timings_ms": (stats["serverTimingsMs"] or [None])[0],
        "errors": stats["errors"],
    }


def browser_rows(
    engines: Any, configs: Sequence[Any], clips: Sequence[tuple[Clip, np.ndarray]], home: Path | None = None
) -> dict[str, Any]:
    """Release → first audio and first tentative text in chromium, per configuration (Japanese clips)."""
    missing = [what for what, ok in (("chromium", CHROMIUM.exists()), ("sox", shutil.which("sox"))) if not ok]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright")
    if missing:
        return {"measured": False, "reason": f"{', '.join(missing)} not installed"}
    japanese = [(c, a) for c, a in clips if c.language == "ja" and not c.mixed]
    if not japanese:
        return {"measured": False, "reason": "no Japanese clip"}
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=home) as tmp, sync_playwright() as playwright:
        wavs = {c.name: _fake_wav(c, Path(tmp) / f"{i}.wav") for i, (c, _) in enumerate(japanese)}
        for config in configs:
            app = _app(engines, config, Path(tmp) / config.name)
            with serve_app(app) as url:
                turns = [
                    {"clip": c.name, **_one_turn(playwright, url, wavs[c.name], c.duration_s + 0.3)}
                    for c, _ in japanese
                ]
            audio = [t["release_to_first_audio_ms"] for t in turns if t["release_to_first_audio_ms"]]
            tentative = [t["first_tentative_text_ms"] for t in turns if t["first_tentative_text_ms"]]
            rows[config.name] = {
                "release_to_first_audio_p50_ms": percentile(audio, 50),
                "first_tentative_text_p50_ms": percentile(tentative, 50),
                "turns": turns,
            }
    return {"measured": True, "route": "ja→en clerk push-to-talk", "configs": rows}


def _app(engines: Any, config: Any, home: Path) -> Any:
    """The counter app on the bench's loaded engines, with ``config``'s ASR and streaming settings."""
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.speech.asr import AsrOptions
    from edge.turn.pipeline import TurnPipeline
    from glossary.languages import COUNTER_LANGUAGES

    base = engines.transcriber
    options = replace(
        AsrOptions(cpu_threads=base.options.cpu_threads),
        beam_size=config.asr_beam,
        short_window=config.asr_short_window,
        languages=("ja", "en") if config.asr_pair_languages else None,
    )
    transcriber = base.with_options(options)
    voices = {k: v for k, v in engines.voices.items() if k == "en"}
    pipeline = TurnPipeline(transcriber, voices, None, languages=COUNTER_LANGUAGES, asr_pack=engines.asr_pack)
    home.mkdir(parents=True, exist_ok=True)
    settings = EdgeSettings(home=home, packs_dir=home / "packs")
    counter = CounterOptions(idle_timeout_s=0, live_transcript=config.asr_streaming, back_translation=False)
    return create_app(settings, pipeline=pipeline, options=counter)
