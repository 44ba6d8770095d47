"""Acoustic verification of term candidates: Whisper's decoder decides between a loose reading match and
what was heard.

Real Whisper base (the session's model) and speech synthesised by the test with OpenJTalk's voice Mei
(pyopenjtalk-plus). The hypotheses are written as Whisper base wrote them on the term-speech set
(``bench terms``), so each case does not depend on Whisper mishearing the clean voice the same way.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from bench.term_speech import synthesize
from edge.audio.vad import trim_silence
from edge.errors import EngineUnavailable
from edge.speech.asr import WhisperTranscriber
from edge.speech.forced import TextScore
from edge.speech.streaming import PartialRunner
from edge.speech.term_verify import TermVerifier, build_verifier
from edge.speech.terms import ReadingCorrector, TermLevers
from edge.turn.pipeline import TurnPipeline
from edge.turn.result import TurnResult
from edge.turn.terms import correct_terms
from glossary import bundled_glossary

pytestmark = pytest.mark.slow


def mei(text: str) -> np.ndarray:
    return synthesize(text, 1.0, 0.0).astype(np.float32)


@pytest.fixture(scope="module")
def transcriber(whisper_base: WhisperTranscriber) -> WhisperTranscriber:
    return whisper_base.with_options(replace(whisper_base.options, beam_size=5, languages=("ja",)))


@pytest.fixture(scope="module")
def verifier() -> TermVerifier:
    return TermVerifier(bundled_glossary())


@pytest.fixture(scope="module")
def corrector() -> ReadingCorrector:
    """The counter's strict corrector: its replacements are what verification builds on."""
    return ReadingCorrector(bundled_glossary())


def heard(transcriber: WhisperTranscriber, text: str) -> np.ndarray:
    """Mei speaking ``text``, recognised once so the recogniser holds its encoder output."""
    audio = mei(text)
    transcriber.transcribe(audio, "ja")
    return audio


def test_a_far_off_mishearing_is_corrected_when_the_audio_says_the_term(
    transcriber: WhisperTranscriber, verifier: TermVerifier, corrector: ReadingCorrector
) -> None:
    audio = heard(transcriber, "在留資格は何ですか。")
    hypothesis = "財震資格は何ですか"  # Whisper base on a noisy rendering of this sentence
    strict = corrector.correct(hypothesis)
    assert "在留資格" not in strict.text  # too far for the reading alone
    verified = verifier.verify(
        hypothesis, strict.found, partial(transcriber.score_texts, audio, language="ja")
    )
    assert verified.text == "在留資格は何ですか"
    assert verified.accepted == 1 and verified.candidates >= 1
    (correction,) = verified.corrections
    assert correction.verified and correction.original == "財震資格"


def test_a_look_alike_the_audio_says_stays_untouched(
    transcriber: WhisperTranscriber, verifier: TermVerifier, corrector: ReadingCorrector
) -> None:
    sentence = "電話番号を見ませんでしたか"
    audio = heard(transcriber, sentence + "。")
    strict = corrector.find(sentence)
    proposed = verifier.proposals(sentence, strict)
    assert "暗証番号" in {f.headword for f in proposed}  # the loose threshold does propose a term
    verified = verifier.verify(sentence, strict, partial(transcriber.score_texts, audio, language="ja"))
    assert verified.text == sentence and verified.accepted == 0 and verified.candidates == len(proposed)
    assert verified.corrections == ()


def test_verification_builds_on_the_strict_spans_it_is_given(
    verifier: TermVerifier, corrector: ReadingCorrector
) -> None:
    """The strict correction's spans are passed in, not looked for again: the loose proposals leave them
    be, and the transcript the candidates are scored against is the strict correction."""
    hypothesis = "十民表と電話番号を見ませんでしたか"
    strict = corrector.correct(hypothesis)
    assert [c.replacement for c in strict.corrections] == ["住民票"]
    given_none = verifier.proposals(hypothesis, ())
    assert strict.found[0].term_id in {f.term_id for f in given_none}  # the loose threshold reaches it too
    proposed = verifier.proposals(hypothesis, strict.found)
    assert "暗証番号" in {f.headword for f in proposed}
    assert all(f.end <= s.start or s.end <= f.start for f in proposed for s in strict.found)
    asked: list[list[str]] = []

    def cannot_score(texts: list[str]) -> None:
        asked.append(list(texts))  # the recogniser no longer holds the audio

    verified = verifier.verify(hypothesis, strict.found, cannot_score)
    assert asked[0][0] == strict.text and len(asked[0]) == 1 + len(proposed)
    assert verified.text == strict.text and verified.corrections == strict.corrections
    assert verified.candidates == verified.accepted == 0


def test_scores_come_from_the_utterance_just_recognised_only(transcriber: WhisperTranscriber) -> None:
    audio = heard(transcriber, "住民票の写しを一通お願いします。")
    texts = ["住民票の写しを一通お願いします", "自動車を買いました"]
    said, other = transcriber.score_texts(audio, texts, "ja")
    assert isinstance(said, TextScore) and said.tokens > 0
    assert said.log_prob > other.log_prob and said.mean > other.mean
    assert transcriber.score_texts(mei("自動車を買いました。"), ["自動車を買いました"], "ja") is None
    transcriber.release()
    assert transcriber.score_texts(audio, ["住民票の写しを一通お願いします"], "ja") is None


def test_a_turn_verifies_then_forgets_the_encoder_output(transcriber: WhisperTranscriber) -> None:
    levers = TermLevers(phrases=False, verification=True)
    glossary = bundled_glossary()
    corrector, _ = levers.build(glossary)
    pipe = TurnPipeline(
        transcriber,
        {},
        None,
        languages=("ja", "en"),
        corrector=corrector,
        levers=levers,
        verifier=build_verifier(levers, glossary, corrector),
    )
    audio = mei("電話番号を見ませんでしたか。")
    result = pipe.run_turn(audio, "ja", "en", speak=False)
    data = result.to_dict()
    assert data["asr"]["term_candidates"] == result.term_candidates >= 1
    assert "term_verify" in result.timings_ms
    assert not any(c.verified for c in result.corrections)
    speech = trim_silence(audio).audio  # what the turn recognised
    assert transcriber.score_texts(speech, ["電話番号を見ませんでしたか"], "ja") is None  # released


def _verifying_pipe(transcriber: WhisperTranscriber) -> TurnPipeline:
    levers = TermLevers(phrases=False, verification=True)
    glossary = bundled_glossary()
    corrector, _ = levers.build(glossary)
    verifier = build_verifier(levers, glossary, corrector)
    return TurnPipeline(
        transcriber, {}, None, languages=("ja", "en"), corrector=corrector, levers=levers, verifier=verifier
    )


def test_a_final_that_reuses_a_partial_still_verifies_its_terms(transcriber: WhisperTranscriber) -> None:
    """Hands-free: the partial decoded 100 ms into the silence is the final transcript; its encoder
    output (not that of the final's slightly longer speech) is what the verification scores on."""
    audio = np.concatenate([mei("電話番号を見ませんでしたか。"), np.zeros(16000, np.float32)])
    speech_end_s = trim_silence(audio).regions[-1][1] - 0.2  # the VAD's pad is 200 ms
    runner = PartialRunner(transcriber, "ja")
    partial = runner.run(audio[: int((speech_end_s + 0.1) * 16000)])
    assert partial is not None and partial.speech.size < trim_silence(audio).audio.size
    streamed = runner.streamed()
    result = _verifying_pipe(transcriber).run_turn(audio, "ja", "en", speak=False, streamed=streamed)
    assert streamed.mode == "reused"
    assert result.term_candidates >= 1 and "term_verify" in result.timings_ms


def test_a_scoring_failure_keeps_the_recognised_utterance(verifier: TermVerifier) -> None:
    """The optional acoustic check fails: the turn keeps the reading-only correction and counts it."""
    corrector, _ = TermLevers(phrases=False).build(bundled_glossary())
    result = TurnResult(source_language="ja", source_text="電話番号を見ませんでしたか", target_language="en")

    def broken(_texts: object) -> None:
        raise EngineUnavailable("Whisper failed while scoring; reinstall the ASR pack")

    correct_terms(corrector, result, verifier, broken)
    assert result.source_text == "電話番号を見ませんでしたか" and result.term_verify_failures == 1
    assert result.term_candidates == 0 and "term_verify" not in result.timings_ms


def test_verification_is_opt_in_and_needs_a_corrector() -> None:
    from edge.config import EdgeSettings
    from edge.engines import term_levers

    glossary = bundled_glossary()
    corrector, _ = TermLevers(phrases=False).build(glossary)
    assert build_verifier(term_levers(EdgeSettings()), glossary, corrector) is None
    on = term_levers(EdgeSettings(term_verification=True))
    assert isinstance(build_verifier(on, glossary, corrector), TermVerifier)
    assert build_verifier(on, glossary, None) is None and build_verifier(on, None, corrector) is None
