"""Where users feel it: the counter page in Debian chromium with a fake microphone, per configuration.

For each main configuration the real counter app (the bench's warm engines in a ``TurnPipeline`` with the
configuration's ASR options, its MT router and beam, with or without recognition while speaking) is served
on 127.0.0.1; chromium plays each Japanese clip as its microphone (``--use-file-for-fake-audio-capture``,
which starts when the talk button first opens the microphone) while the clerk holds the talk button for
the clip's length. The page itself measures (``window.madoguchiStats``) **release → first audio** of the
English translation and **first tentative text** after the button was pressed; the latter is reported
after the start of speech (the clip's leading silence, found by the VAD, taken off). Clerk turns are
ja → en: on MT twins the spoken text is Whisper's own translation of the clip (as in ``bench.latency``),
and the extra row ``WHISPER_TRANSLATE`` runs the tuned ASR with no MT pack, so Whisper translates (the
≤ 700 ms target). The page always speaks sentence by sentence (``tts_streaming`` has no effect here).
Needs Playwright, chromium and sox; rows say why when they cannot run.
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
    """One clerk push-to-talk turn in a fresh chromium; a turn that fails is a row with its error (the
    run goes on)."""
    try:
        return _measured_turn(playwright, url, wav, hold_s)
    except Exception as exc:  # a stuck page must not lose the other rows
        return {
            "release_to_first_audio_ms": None,
            "first_tentative_text_ms": None,
            "partials": 0,
            "server_timings_ms": None,
            "errors": [f"bench: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"],
        }


def _measured_turn(playwright: Any, url: str, wav: Path, hold_s: float) -> dict[str, Any]:
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
        page.wait_for_function("() => document.body.dataset.connected === '1'")
        page.click("#picker button[data-lang='en']")
        page.locator("#clerk-talk").hover()
        page.mouse.down()
        page.wait_for_timeout(int(hold_s * 1000))
        page.mouse.up()
        page.wait_for_function("() => window.madoguchiStats.turnsEnded > 0")
        page.wait_for_function(
            "() => window.madoguchiStats.latenciesMs.length > 0 || window.madoguchiStats.errors.length > 0",
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


#: The browser row of the tuned configuration without an MT pack: Whisper translates ja → en itself.
WHISPER_TRANSLATE = "tuned-whisper-translate"


def browser_rows(
    engines: Any,
    configs: Sequence[Any],
    clips: Sequence[tuple[Clip, np.ndarray]],
    stand_ins: dict[str, str] | None = None,
    home: Path | None = None,
) -> dict[str, Any]:
    """Release → first audio and first tentative text in chromium, per main configuration (Japanese
    clips), plus ``WHISPER_TRANSLATE`` when the tuned configuration is among ``configs``."""
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
    runs = [(c, c.mt_shape) for c in configs if c.group == "main"]
    runs += [(replace(c, name=WHISPER_TRANSLATE), None) for c in configs if c.name == "tuned"]
    onsets = {c.name: _speech_onset_ms(a) for c, a in japanese}
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=home) as tmp, sync_playwright() as playwright:
        wavs = {c.name: _fake_wav(c, Path(tmp) / f"{i}.wav") for i, (c, _) in enumerate(japanese)}
        for config, shape in runs:
            router = _router(engines, config, shape)
            app = _app(engines, config, router, Path(tmp) / config.name)
            turns = []
            with serve_app(app) as url:
                for clip, _ in japanese:
                    if router is not None and hasattr(router, "stand_in"):
                        router.stand_in = (stand_ins or {}).get(clip.name)
                    turn = _one_turn(playwright, url, wavs[clip.name], clip.duration_s + 0.3)
                    turns.append({"clip": clip.name, **_after_onset(turn, onsets[clip.name])})
            rows[config.name] = _row(turns, "whisper-translate" if router is None else shape)
    return {"measured": True, "route": "ja→en clerk push-to-talk", "configs": rows}


def _row(turns: list[dict[str, Any]], mt: str | None) -> dict[str, Any]:
    audio = [t["release_to_first_audio_ms"] for t in turns if t["release_to_first_audio_ms"]]
    tentative = [t["first_tentative_text_ms"] for t in turns if t["first_tentative_text_ms"] is not None]
    return {
        "mt": mt,
        "release_to_first_audio_p50_ms": percentile(audio, 50),
        "first_tentative_text_p50_ms": percentile(tentative, 50),
        "turns_measured": len(audio),
        "errors": sum(len(t["errors"]) for t in turns),
        "turns": turns,
    }


def _speech_onset_ms(audio: np.ndarray) -> float:
    """Where speech starts in the clip (ms; 0 when the VAD finds none)."""
    from edge.audio.vad import VadOptions, trim_silence
    from edge.errors import NoSpeechError

    try:
        regions = trim_silence(audio, VadOptions(speech_pad_ms=0)).regions
    except NoSpeechError:
        return 0.0
    return float(regions[0][0]) * 1000.0 if regions else 0.0


def _after_onset(turn: dict[str, Any], onset_ms: float) -> dict[str, Any]:
    """The first tentative text counted from the start of speech rather than the button press."""
    pressed = turn["first_tentative_text_ms"]
    return {
        **turn,
        "first_tentative_after_press_ms": pressed,
        "speech_onset_ms": round(onset_ms),
        "first_tentative_text_ms": None if pressed is None else round(max(0.0, pressed - onset_ms)),
    }


def _router(engines: Any, config: Any, shape: str | None) -> Any:
    """The configuration's MT router with its beam and vocabulary map (None: Whisper translates)."""
    if shape is None:
        return None
    router = engines.routers[shape]
    router.options = replace(router.options, beam_size=config.mt_beam, use_vmap=config.mt_vmap)
    return router


def _app(engines: Any, config: Any, router: Any, home: Path) -> Any:
    """The counter app on the bench's loaded engines, with ``config``'s ASR, MT and streaming settings."""
    from edge.config import EdgeSettings
    from edge.counter.app import CounterOptions, create_app
    from edge.speech.asr import AsrOptions
    from edge.speech.streaming import StreamingOptions
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
    twin = router is not None and engines.mt_labels.get(config.mt_shape, "").startswith("twin:")
    pipeline = TurnPipeline(
        transcriber,
        voices,
        router,
        languages=COUNTER_LANGUAGES,
        asr_pack=engines.asr_pack,
        loop_guard=not twin,  # twins emit random text; the stand-in is what gets spoken
    )
    home.mkdir(parents=True, exist_ok=True)
    settings = EdgeSettings(home=home, packs_dir=home / "packs")
    streaming = StreamingOptions(partial_beam=config.partial_beam, stop_at_release=config.partial_stop)
    counter = CounterOptions(
        idle_timeout_s=0, live_transcript=config.asr_streaming, back_translation=False, streaming=streaming
    )
    return create_app(settings, pipeline=pipeline, options=counter)
