"""ASR with the real Whisper base model on real clips (accuracy bounds, language ID, translate, errors).

The model is the ``whisper-base`` pack installed from PyPI into the test store.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jiwer
import numpy as np
import pytest

from edge.audio.decode import SAMPLE_RATE, load_audio
from edge.audio.vad import trim_silence
from edge.errors import EngineUnavailable
from edge.speech.asr import AsrOptions, WhisperTranscriber, compression_ratio
from glossary.languages import COUNTER_LANGUAGES
from tests.shared_data import SPEECH_DIR as SPEECH
from tests.shared_data import whisper_base_dir

pytestmark = pytest.mark.slow


def normalise_ja(text: str) -> str:
    """Drop punctuation and spaces (the references are unpunctuated)."""
    return re.sub(r"[\s、。，,.!?！？「」『』・ー]", "", text)


def normalise_en(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


@pytest.fixture
def transcriber(whisper_base: WhisperTranscriber) -> WhisperTranscriber:
    """The shared Whisper base, with no encoding kept from another test."""
    return whisper_base.with_options(whisper_base.options)


def speech(name: str) -> np.ndarray:
    return trim_silence(load_audio(SPEECH / name)).audio


# Measured with Whisper base int8, greedy, short window, VAD-trimmed: test_ja_2 CER 0.18 (机械→機会,
# 計ります→わかります), Common Voice CER 0.40 (木村→きむら and 写真→参信 count as 4 of 10 characters).
# The bounds leave a little room for CPU-dependent int8 rounding.
@pytest.mark.parametrize(
    ("name", "reference", "max_cer"),
    [
        (
            "test_ja_2.wav",
            "これはテスト文ですこの機械が日本語をちゃんと聞き取れているかどうかを計ります",
            0.25,
        ),
        ("common_voice_ja_19482480.mp3", "木村さんはわたしに写真を見せてくれました。", 0.5),
    ],
)
def test_japanese_cer(transcriber: WhisperTranscriber, name: str, reference: str, max_cer: float) -> None:
    result = transcriber.transcribe(speech(name))
    cer = jiwer.cer(normalise_ja(reference), normalise_ja(result.text))
    assert result.language == "ja"
    assert cer <= max_cer, f"CER {cer:.3f} for {result.text!r}"


# Measured: WER 0.0 on both LibriSpeech clips (base, greedy). Bound 0.15.
@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("librispeech_1089-134686-0001.wav", "STUFF IT INTO YOU HIS BELLY COUNSELLED HIM"),
        (
            "librispeech-1995-1837-0001.wav",
            "IT WAS THE FIRST GREAT SORROW OF HIS LIFE IT WAS NOT SO MUCH THE LOSS OF THE COTTON ITSELF "
            "BUT THE FANTASY THE HOPES THE DREAMS BUILT AROUND IT",
        ),
    ],
)
def test_english_wer(transcriber: WhisperTranscriber, name: str, reference: str) -> None:
    result = transcriber.transcribe(speech(name), "en")
    wer = jiwer.wer(normalise_en(reference), normalise_en(result.text))
    assert wer <= 0.15, f"WER {wer:.3f} for {result.text!r}"


def test_language_id_restricted_to_counter_languages(transcriber: WhisperTranscriber) -> None:
    result = transcriber.transcribe(speech("common_voice_ja_19482480.mp3"))
    assert result.language == "ja"
    assert result.language_probability > 0.5
    only_english = transcriber.with_options(AsrOptions(languages=("en", "vi")))
    assert only_english.transcribe(speech("common_voice_ja_19482480.mp3")).language in ("en", "vi")


def test_short_window_result_records_its_context(transcriber: WhisperTranscriber) -> None:
    result = transcriber.transcribe(speech("common_voice_ja_19482480.mp3"), "ja")
    assert result.window_s == 10.0  # a 5 s utterance is padded to the 10 s minimum
    assert result.options["short_window"] is True
    assert result.language_probability == 1.0
    assert {"encode", "decode", "total"} <= result.timings_ms.keys()
    assert isinstance(result.guard_fired, bool)


def test_full_window_gives_the_same_language_and_similar_text(transcriber: WhisperTranscriber) -> None:
    full = transcriber.with_options(AsrOptions(short_window=False, languages=COUNTER_LANGUAGES))
    audio = speech("test_ja_2.wav")
    result = full.transcribe(audio)
    assert result.window_s == 30
    assert result.language == "ja"
    assert jiwer.cer(normalise_ja(transcriber.transcribe(audio).text), normalise_ja(result.text)) < 0.3


def test_whisper_translate_gives_english(transcriber: WhisperTranscriber) -> None:
    result = transcriber.transcribe(speech("test_ja_2.wav"), "ja", task="translate")
    assert result.task == "translate"
    assert re.search(r"[A-Za-z]{3,}", result.text)
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", result.text)


def test_guard_measure_flags_repetition() -> None:
    assert compression_ratio("ありがとうございます。" * 30) > 2.4
    assert compression_ratio("これはテスト文です。この機械が日本語を聞き取れているか計ります。") < 2.4


def test_missing_model_dir(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="models install whisper-base"):
        WhisperTranscriber(tmp_path / "nowhere")


def test_corrupt_model(tmp_path: Path) -> None:
    source = whisper_base_dir()
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        if (source / name).exists():
            shutil.copy(source / name, tmp_path / name)
    (tmp_path / "model.bin").write_bytes(b"\0" * 4096)
    with pytest.raises(EngineUnavailable, match="corrupt"):
        WhisperTranscriber(tmp_path)


def test_one_second_of_silence_does_not_crash(transcriber: WhisperTranscriber) -> None:
    result = transcriber.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), "ja")
    assert isinstance(result.text, str)


def test_translate_after_transcribe_reuses_the_encoder(transcriber: WhisperTranscriber) -> None:
    audio = speech("common_voice_ja_19482480.mp3")
    heard = transcriber.transcribe(audio)
    english = transcriber.transcribe(audio, heard.language, task="translate", reuse_encoding=True)
    assert english.timings_ms["encode"] == 0.0
    again = transcriber.transcribe(audio, heard.language)  # not asked to reuse: encodes again
    assert again.timings_ms["encode"] > 0.0
    assert english.text.isascii() and english.text


def test_clip_longer_than_the_window_goes_through_sequential_decoding(
    transcriber: WhisperTranscriber,
) -> None:
    # Two different utterances, the second wholly after the first 30 s window (the same clip three
    # times would be a true repetition, which the loop guard rightly retries with sampling).
    first = load_audio(SPEECH / "test_ja_2.wav")  # 11.25 s
    second = load_audio(SPEECH / "common_voice_ja_19482480.mp3")  # 5.7 s
    gap = np.zeros(int(SAMPLE_RATE * 31.5) - len(first), dtype=first.dtype)
    result = transcriber.transcribe(np.concatenate([first, gap, second]))
    assert result.window_s == 30 and result.duration_s > 36
    assert result.language == "ja" and result.repetition is None
    assert "テスト" in result.text  # the first window
    assert "見せて" in result.text  # the second window, heard only by decoding on past 30 s


def test_guard_reruns_with_the_full_window(transcriber: WhisperTranscriber) -> None:
    # A ratio bound no text can meet makes every short-window result look repetitive.
    strict = transcriber.with_options(AsrOptions(languages=COUNTER_LANGUAGES, max_compression_ratio=0.0))
    result = strict.transcribe(speech("common_voice_ja_19482480.mp3"), "ja")
    assert result.guard_fired
    assert result.window_s == 30
    assert "guard_encode" in result.timings_ms
    assert "見せて" in result.text
