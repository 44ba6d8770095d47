"""The speech stage of a turn: the listener's voice speaks the translation, sentence by sentence.

Each sentence goes out as a ``SpeechAudio`` event as soon as it is synthesised; an empty ``is_last``
chunk ends the speech. No voice for the target is not an error: the result is text, ``voice_missing``
is set and a notice names the voice pack to install (Tagalog has none: the notice says so). A language
IT allows the espeak-ng machine voice for is spoken by it (``voice_quality == "machine"``). ``ja-easy``
is spoken by the Japanese voice, following the ``readings`` shown. A voice that crashes leaves the text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from edge.events import SpeechAudio
from edge.speech.tts import Synthesizer
from edge.turn.result import TurnContext, log_engine_failure, ms_since
from glossary.languages import EASY_JAPANESE, ENGLISH_NAMES, STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)


def spoken_as(language: str) -> str:
    """The language whose voice speaks ``language`` (``ja-easy`` is spoken by the Japanese voice)."""
    return STAFF_LANGUAGE if language == EASY_JAPANESE else language


def speak_translation(ctx: TurnContext, voices: Mapping[str, Synthesizer]) -> None:
    """Speak ``ctx.result.target_text`` (or its ``readings``) in the target language."""
    result = ctx.result
    target = result.target_language
    voice = voices.get(spoken_as(target))
    if voice is None:
        result.voice_missing = target
        ctx.notice(missing_voice_message(target), "voice_missing")
        return
    clock = time.perf_counter()
    result.voice_quality = getattr(voice, "quality", "neural")
    chunks, failed = _stream(ctx, voice, clock)
    if chunks:
        rate = result.sample_rate or 22050
        ctx.emit(SpeechAudio(pcm=b"", sample_rate=rate, index=len(chunks), is_last=True))
    result.timings_ms["tts"] = ms_since(clock)
    if failed:
        ctx.notice("the voice failed for this turn; the translation is shown as text", "voice_failed")
        return
    if chunks:
        result.audio = np.concatenate(chunks)
        result.voice = getattr(voice, "name", target)


def _stream(ctx: TurnContext, voice: Any, clock: float) -> tuple[list[np.ndarray], bool]:
    """Synthesise and emit each sentence; the samples so far, and True when the voice crashed."""
    result = ctx.result
    chunks: list[np.ndarray] = []
    with_readings = getattr(voice, "synthesize_readings", None) if result.readings else None
    try:
        speech = with_readings(result.readings) if with_readings else voice.synthesize(result.target_text)
        for chunk in speech:
            if not chunks:
                result.timings_ms["tts_first"] = ms_since(clock)
                result.timings_ms["first_audio"] = ms_since(ctx.started)
            ctx.emit(SpeechAudio(pcm=chunk.pcm, sample_rate=chunk.sample_rate, index=len(chunks)))
            chunks.append(chunk.samples())
            result.sample_rate = chunk.sample_rate
    except Exception as exc:  # a crash of the voice: the text stands, the session goes on
        log_engine_failure("TTS", exc)
        return chunks, True
    return chunks, False


def missing_voice_message(language: str) -> str:
    """What to install to hear ``language``, or why no voice exists."""
    name = ENGLISH_NAMES.get(language, language)
    if language in (STAFF_LANGUAGE, EASY_JAPANESE):
        return (
            "no Japanese voice installed (Japanese is text-first): run "
            "`madoguchi models install openjtalk-mei`; the translation is shown as text"
        )
    spec = _preferred_voice_pack(language)
    if spec is None:
        return f"no {name} voice is available (no openly licensed voice); the translation is shown as text"
    if spec.engine == "kokoro" and (unusable := kokoro_unusable(language)):
        return f"no {name} voice: {unusable}; the translation is shown as text"
    install = " ".join(voice_packs_to_install(language))
    return f"no {name} voice installed: run `madoguchi models install {install}`; text only for now"


def voice_packs_to_install(language: str) -> list[str]:
    """The packs that give ``language`` its preferred neural voice cleared for a city's use (a Kokoro voice
    with its shared model); [] when the catalogue has none or this build could not load it."""
    spec = _preferred_voice_pack(language)
    if spec is None or (spec.engine == "kokoro" and kokoro_unusable(language)):
        return []
    needed = spec.runtime.get("model_pack")
    return [str(needed), str(spec.id)] if needed else [str(spec.id)]


def _preferred_voice_pack(language: str) -> Any | None:
    """The catalogue's preferred voice pack for ``language`` cleared for commercial use, or None (also when
    the catalogue cannot be read: it only improves a message)."""
    from edge.speech.voices import PREFERRED_VOICES

    try:
        from models.catalogue import Catalogue

        specs = [
            spec
            for spec in Catalogue.load().all()
            if spec.kind == "tts" and language in spec.languages and spec.license.commercial_ok is True
        ]
    except Exception as exc:  # the catalogue only improves a message
        _LOGGER.debug("catalogue unavailable: %s", exc)
        return None
    order = PREFERRED_VOICES.get(language, ())
    specs.sort(key=lambda spec: order.index(spec.id) if spec.id in order else len(order))
    return specs[0] if specs else None


def kokoro_unusable(language: str) -> str | None:
    """Why a Kokoro voice for ``language`` cannot load in this build (its phonemizer), or None."""
    from edge.errors import EngineUnavailable
    from edge.speech.voices.kokoro_phonemes import check_phonemizer

    try:
        check_phonemizer(language)
    except EngineUnavailable as exc:
        return str(exc)
    return None
