"""Loops are never spoken; term corrections and phrase-book matches reach the turn result.

Real Whisper base, the real English Piper voice and speech synthesised by the test itself with
OpenJTalk's voice Mei (pyopenjtalk-plus), resampled to 16 kHz.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bench.term_speech import synthesize
from edge.events import Notice, SpeechAudio, TranscriptEvent, TranslationReady
from edge.speech.asr import WhisperTranscriber
from edge.speech.repetition import find_repetition
from edge.speech.term_hints import hotword_text
from edge.speech.terms import TermLevers
from edge.speech.tts import PiperSynthesizer
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary

pytestmark = pytest.mark.slow

REPEATED = "大丈夫です。大丈夫です。大丈夫です。大丈夫です。"


def mei(text: str) -> np.ndarray:
    return synthesize(text, 1.0, 0.0).astype(np.float32)


@pytest.fixture(scope="module")
def transcriber(whisper_base: WhisperTranscriber) -> WhisperTranscriber:
    """The session's Whisper base (no second copy) with beam 5 over Japanese and English."""
    return whisper_base.with_options(replace(whisper_base.options, beam_size=5, languages=("ja", "en")))


@pytest.fixture(scope="module")
def pipe(transcriber: WhisperTranscriber, english_synthesizer: PiperSynthesizer) -> TurnPipeline:
    levers = TermLevers()
    corrector, phrases = levers.build(bundled_glossary())
    voices = {"en": english_synthesizer}
    return TurnPipeline(
        transcriber,
        voices,
        None,
        languages=("ja", "en"),
        corrector=corrector,
        phrase_matcher=phrases,
        levers=levers,
    )


def test_a_looping_decode_is_decoded_again(transcriber: WhisperTranscriber) -> None:
    result = transcriber.transcribe(mei(REPEATED), "ja")
    # Beam search writes the clause four times; the loop is seen and a sampled decode replaces it.
    assert result.temperature > 0 or result.repetition is not None
    assert result.guard_fired
    if result.repetition is None:
        assert find_repetition(result.text) is None


def test_a_transcript_that_still_loops_is_shown_flagged_and_never_spoken(pipe: TurnPipeline) -> None:
    no_retry = pipe.transcriber.with_options(replace(pipe.transcriber.options, fallback_temperatures=()))
    looping = TurnPipeline(no_retry, pipe.voices, None, languages=("ja", "en"))
    events: list[object] = []
    result = looping.run_turn(mei(REPEATED), "ja", "en", events.append)
    assert result.source_text.count("大丈夫") >= 2
    assert result.flagged and result.audio is None and result.target_text == ""
    assert result.repetition is not None and result.repetition["where"] == "transcript"
    assert not any(isinstance(e, SpeechAudio | TranslationReady) for e in events)
    codes = [e.code for e in events if isinstance(e, Notice)]
    assert "unreliable_transcript" in codes
    assert json.loads(json.dumps(result.to_dict()))["repetition"]["kind"] in {"tandem", "clause", "tokens"}


def test_a_looping_translation_is_not_spoken(pipe: TurnPipeline) -> None:
    events: list[object] = []
    loop = "Don't worry about it. Don't worry about it. Don't worry about it."
    result = pipe.translate_text(loop, "en", "en", events.append)
    assert result.flagged and result.audio is None and result.target_text == loop  # shown, flagged
    assert result.repetition is not None and result.repetition["where"] == "translation"
    assert not any(isinstance(e, SpeechAudio) for e in events)
    assert next(e for e in events if isinstance(e, TranslationReady)).flagged
    assert "unreliable_translation" in [e.code for e in events if isinstance(e, Notice)]
    fine = pipe.translate_text("Please wait a moment.", "en", "en")
    assert not fine.flagged and fine.audio is not None


def test_a_misheard_term_is_corrected_and_counted(pipe: TurnPipeline) -> None:
    events: list[object] = []
    result = pipe.run_turn(mei("児童手当の申請はこちらです。"), "ja", "en", events.append, speak=False)
    assert "児童手当" in result.source_text
    data = result.to_dict()
    assert data["corrections_count"] == len(result.corrections)
    if result.corrections:  # Whisper base writes 自動手当て for Mei's 児童手当
        assert result.recognised_text and "児童手当" not in result.recognised_text
        first = data["corrections"][0]
        assert result.source_text[first["start"] : first["end"]] == "児童手当"
        event = next(e for e in events if isinstance(e, TranscriptEvent))
        assert event.corrections == data["corrections"] and event.recognised_text == result.recognised_text
    assert "terms" in result.timings_ms


def test_a_phrase_book_sentence_gets_its_verified_translation(pipe: TurnPipeline) -> None:
    events: list[object] = []
    result = pipe.run_turn(mei("確認しますので、少々お待ちください。"), "ja", "en", events.append)
    assert result.mt_engine == "phrasebook"
    assert result.verified_phrase is not None
    assert result.verified_phrase["phrase_id"] == "clarification.let_me_check"
    phrase = bundled_glossary().phrases["clarification.let_me_check"]
    assert result.target_text == phrase.translations["en"]
    assert result.audio is not None  # a verified sentence is spoken
    ready = next(e for e in events if isinstance(e, TranslationReady))
    assert ready.verified_phrase == result.verified_phrase


def test_rescoring_keeps_the_beam_hypothesis_with_a_term() -> None:
    from edge.speech.asr_types import Transcript
    from edge.turn.result import TurnResult
    from edge.turn.terms import correct_terms

    corrector, _ = TermLevers(phrases=False).build(bundled_glossary())
    heard = Transcript(
        "十人の方をください", "ja", 1.0, 2.0, 8.0, False, -0.30, 1.0, "transcribe",
        alternatives=[("十民表の写しをください", -0.33), ("十人の方を下さい", -0.35)],
    )  # fmt: skip
    result = TurnResult("ja", heard.text, "en", transcript=heard)
    correct_terms(corrector, result)
    assert result.beam_rank == 1 and result.recognised_text == "十人の方をください"  # what was heard best
    assert result.source_text == "住民票の写しをください"
    assert result.to_dict()["asr"]["beam_rank"] == 1 and result.to_dict()["asr"]["hypotheses"] == 3
    far = replace(heard, alternatives=[("十民表の写しをください", -0.9)])
    kept = TurnResult("ja", far.text, "en", transcript=far)
    correct_terms(corrector, kept)  # a clear score gap: the recogniser's best stays
    assert kept.beam_rank == 0 and kept.source_text == "十人の方をください" and kept.recognised_text is None


def test_rescoring_never_keeps_a_looping_alternative() -> None:
    from edge.speech.asr_types import Transcript
    from edge.turn.result import TurnResult
    from edge.turn.terms import correct_terms

    corrector, _ = TermLevers(phrases=False).build(bundled_glossary())
    looping = "住民票の写しをください。住民票の写しをください。"
    assert find_repetition(looping) is not None
    heard = Transcript(
        "十人の方をください", "ja", 1.0, 2.0, 8.0, False, -0.30, 1.0, "transcribe",
        alternatives=[(looping, -0.31), ("十民表の写しをください", -0.33)],
    )  # fmt: skip
    result = TurnResult("ja", heard.text, "en", transcript=heard)
    correct_terms(corrector, result)
    assert find_repetition(result.source_text) is None
    assert result.beam_rank == 2 and result.source_text == "住民票の写しをください"
    only = replace(heard, alternatives=[(looping, -0.31)])
    kept = TurnResult("ja", only.text, "en", transcript=only)
    correct_terms(corrector, kept)
    assert kept.beam_rank == 0 and kept.source_text == "十人の方をください"


def test_a_counter_with_rescoring_decodes_alternatives(pipe: TurnPipeline) -> None:
    from edge import engines

    rescoring = TurnPipeline(
        engines.with_alternatives(pipe.transcriber),
        pipe.voices,
        None,
        languages=("ja", "en"),
        corrector=pipe.corrector,
        phrase_matcher=None,
    )
    result = rescoring.run_turn(mei("住民票の写しを1通お願いします。"), "ja", "en", speak=False)
    asr = result.to_dict()["asr"]
    assert asr["hypotheses"] == 5 and 0 <= asr["beam_rank"] < 5
    assert "住民票の写し" in result.source_text


def test_a_glossary_synced_after_start_turns_rescoring_and_hotwords_on(
    transcriber: WhisperTranscriber,
) -> None:
    levers = TermLevers(phrases=False, hotwords=True)
    started_bare = TurnPipeline(transcriber, {}, None, languages=("ja", "en"), levers=levers)
    assert started_bare.corrector is None and started_bare.transcriber.options.num_hypotheses == 1
    started_bare.set_glossary(bundled_glossary())  # the first sync brings the city's glossary
    options = started_bare.transcriber.options
    assert started_bare.corrector is not None and options.num_hypotheses == 5
    assert options.hotwords == hotword_text(bundled_glossary())
    assert transcriber.options.num_hypotheses == 1  # the shared model's own options are untouched
    result = started_bare.run_turn(mei("住民票の写しを1通お願いします。"), "ja", "en", speak=False)
    assert result.to_dict()["asr"]["hypotheses"] > 1
