"""Loading the engines of a turn from ``EdgeSettings`` once: ASR, voices, MT, glossary levers, Easy Japanese.

``TurnPipeline.from_settings`` calls ``load_engines``; the engines come from the pack store through
``edge.engines``. Malloc is set up first (``edge.memory.configure_malloc``) and each load is followed by
``release_free_memory`` so a small device keeps its RAM, and ``warm`` runs every engine once so the first
turn is as fast as the next. Voices that take seconds to load
(``warms_slowly``: Kokoro's model and phonemizer dictionaries) are warmed in a background thread either
way, so the counter starts (and a one-shot CLI turn recognises and translates) while they load; a turn
that needs one before it is ready waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edge import engines
from edge.config import EdgeSettings
from edge.memory import configure_malloc, release_free_memory
from edge.speech.asr import WhisperTranscriber
from edge.speech.asr_types import Transcriber
from edge.speech.term_verify import build_verifier
from edge.speech.tts import Synthesizer
from edge.turn.easy import load_easy_japanese
from edge.turn.languages import AUTO
from glossary.languages import EASY_JAPANESE, STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)


@dataclass
class LoadedEngines:
    """What ``load_engines`` loaded (see ``TurnPipeline.__init__`` for each)."""

    transcriber: Transcriber
    asr_pack: str | None
    voices: dict[str, Synthesizer]
    router: Any | None
    easy_japanese: Any | None
    corrector: Any | None
    phrase_matcher: Any | None
    levers: Any | None
    verifier: Any | None = None


def load_engines(
    settings: EdgeSettings,
    *,
    pairs: Iterable[tuple[str, str]] | None = None,
    warm: bool = True,
    transcriber: WhisperTranscriber | None = None,
) -> LoadedEngines:
    """Load ASR, the voices and the MT router of ``settings`` (see ``TurnPipeline.from_settings``).

    Raises:
        EngineUnavailable: the ASR model is missing or corrupt.
        ValueError: ``transcriber`` is another model than the one ``settings`` names.
    """
    started = time.perf_counter()
    configure_malloc()  # before the engines start their threads
    pairs = list(pairs) if pairs is not None else None
    store = engines.open_store(settings)
    asr, asr_pack = engines.load_transcriber(settings, store, loaded=transcriber)
    release_free_memory()  # the model file's read buffers (each load below likewise)
    voice_refs = engines.find_voices(settings, store)
    glossary = engines.load_glossary()
    voices = _load_voices(voice_refs, _wanted_languages(settings, pairs), glossary)
    router = engines.load_mt_router(settings, store, glossary)
    levers = engines.term_levers(settings)
    corrector, phrase_matcher = levers.build(glossary)
    verifier = build_verifier(levers, glossary, corrector)
    asr = engines.tune_for_glossary(asr, levers, glossary, corrector)
    if router is not None:
        router.warm([pair for pair in _mt_pairs(settings, pairs) if pair[0] != AUTO])
        release_free_memory()
    easy = load_easy_japanese()
    warm_slow_voices_in_background(voices)
    if warm:
        _warm(easy, asr, voices)
    release_free_memory()
    _LOGGER.info(
        "turn pipeline ready in %.1f s (ASR %s, voices %s)",
        time.perf_counter() - started,
        asr_pack,
        ", ".join(sorted(voices)) or "none",
    )
    return LoadedEngines(asr, asr_pack, voices, router, easy, corrector, phrase_matcher, levers, verifier)


def _wanted_languages(settings: EdgeSettings, pairs: list[tuple[str, str]] | None) -> set[str]:
    """The languages to load a voice for (``ja-easy`` needs the Japanese voice)."""
    wanted = {lang for pair in pairs for lang in pair} if pairs is not None else set(settings.languages)
    if EASY_JAPANESE in wanted:
        wanted.add(STAFF_LANGUAGE)
    return wanted


def _load_voices(refs: Mapping[str, Any], wanted: set[str], glossary: Any) -> dict[str, Synthesizer]:
    voices: dict[str, Synthesizer] = {}
    for language, ref in refs.items():
        if language in wanted:
            voices[language] = engines.load_voice(ref, glossary)
    return voices


def _mt_pairs(settings: EdgeSettings, pairs: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """The MT pairs to preload: ``pairs``, or ja ⇄ every enabled language."""
    if pairs is not None:
        return pairs
    others = [lang for lang in settings.languages if lang != "ja"]
    return [(a, b) for lang in others for a, b in (("ja", lang), (lang, "ja"))]


def _warm(easy: Any | None, transcriber: Transcriber, voices: Mapping[str, Synthesizer]) -> None:
    """Run each engine once so lazy allocations happen now, not in the first turn."""
    if easy is not None:
        easy.rewrite("ご記入ください。")
    transcriber.warm()
    for voice in voices.values():
        if not getattr(voice, "warms_slowly", False):
            voice.warm()


_STOP_WARMING = threading.Event()


def stop_background_warming() -> None:
    """Ask the background warm-up to stop after the voice it is warming (the counter is stopping)."""
    _STOP_WARMING.set()


def warm_slow_voices_in_background(voices: Mapping[str, Synthesizer]) -> threading.Thread | None:
    """Warm the voices that load slowly (``warms_slowly``) in a thread; returns it (None: none).

    Not a daemon: Python's shutdown waits for it. A daemon thread still inside ONNX Runtime when the
    interpreter exits (Ctrl+C during loading) made the process abort (SIGABRT, "terminate called"); so that
    the wait is one voice's warm-up at most, ``stop_background_warming`` stops it between voices.
    """
    slow = [voice for voice in voices.values() if getattr(voice, "warms_slowly", False)]
    if not slow:
        return None

    def run() -> None:
        started = time.perf_counter()
        for voice in slow:
            if _STOP_WARMING.is_set():
                _LOGGER.info("voice warm-up stopped: the counter is stopping")
                return
            try:
                voice.warm()
            except Exception as exc:  # the turn that needs the voice reports it; the counter runs on
                _LOGGER.warning("voice %s not warmed: %s", getattr(voice, "name", "?"), type(exc).__name__)
        _LOGGER.info("slow voices warmed in %.1f s", time.perf_counter() - started)

    thread = threading.Thread(target=run, name="voice-warm")
    thread.start()
    return thread
