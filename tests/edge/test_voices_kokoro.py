"""Kokoro voices: the model from PyPI wheels and voice vectors from the kokoro-js npm tarball, one shared
ONNX session across languages, loaded lazily, the first clause streamed before the rest.

The voices load and speak in a child process (``tests.support.child``): Kokoro's session and the Mandarin
phonemizer's dictionaries would otherwise stay in the test process for the rest of the run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from edge import engines
from edge.config import EdgeSettings
from edge.speech.tts import SpeechChunk
from edge.speech.voices.kokoro import KokoroSynthesizer
from edge.speech.voices.kokoro_phonemes import phonemizer_for
from edge.speech.voices.kokoro_pieces import LONG_PIECE_SPACED, stream_pieces
from edge.speech.voices.zh_text import spoken_numbers
from models import Catalogue
from tests.support.child import run_in_child
from tests.support.data import kokoro_store

pytestmark = pytest.mark.slow

MANDARIN = "请签名。"


@dataclass(frozen=True)
class Spoken:
    """What the child process saw: the voices the store offers, the shared model, and the speech."""

    refs: dict[str, tuple[str, str]]  # language → (pack id, engine)
    same_model: bool
    loaded: bool
    spanish: list[SpeechChunk]
    mandarin_phonemes: str
    mandarin: list[SpeechChunk]


def speak_in_a_child_process() -> Spoken:
    """Load Mei and the zh and es Kokoro voices from the store as a counter would, and speak with them."""
    store = kokoro_store()
    settings = EdgeSettings(packs_dir=store.root, languages=["ja", "zh", "es"], fallback_voice_languages=[])
    refs = engines.find_voices(settings)
    voices: dict[str, Any] = {language: engines.load_voice(refs[language]) for language in ("zh", "es")}
    spanish = list(voices["es"].synthesize("Buenos días."))
    return Spoken(
        refs={language: (ref.pack_id, ref.engine) for language, ref in refs.items()},
        same_model=voices["zh"]._model is voices["es"]._model,
        loaded=voices["zh"]._model.loaded,
        spanish=spanish,
        mandarin_phonemes=phonemizer_for("zh")(MANDARIN),
        mandarin=list(voices["zh"].synthesize(MANDARIN)),
    )


@pytest.fixture(scope="module")
def spoken() -> Spoken:
    kokoro_store()  # installed here, so a failed install fails in the test process with its message
    result = run_in_child(speak_in_a_child_process)
    assert result.refs["ja"][0] == "openjtalk-mei"  # Mei stays the Japanese default on two cores
    for language in ("zh", "es"):
        assert result.refs[language][1] == "kokoro"
    return result


def test_catalogue_pins_voice_vectors_and_credits_them() -> None:
    catalogue = Catalogue.load()
    spec = catalogue.get("kokoro-es-ef_dora")
    assert spec.source.type == "npm" and spec.source.packages == ("kokoro-js@1.2.1",)
    assert spec.files[0].sha256 and spec.license.spdx == "Apache-2.0"
    assert spec.engine_code("es") == "es-419"
    languages = {lang for s in catalogue.all() if s.format == "kokoro-voice" for lang in s.languages}
    assert languages == {"ja", "zh", "es", "pt", "en"}
    store = kokoro_store()
    vector = np.fromfile(store.get("kokoro-es-ef_dora").runtime_path("voice_file"), dtype="<f4")
    assert vector.size == 510 * 256


def test_voices_share_one_lazily_loaded_model(spoken: Spoken) -> None:
    assert spoken.same_model
    chunks = spoken.spanish
    assert spoken.loaded and chunks and chunks[0].sample_rate == 24000
    audio = chunks[0].samples().astype(np.float32)
    assert audio.size / 24000 > 0.4 and np.sqrt(np.mean(audio**2)) > 300
    assert np.abs(audio[: 24000 // 10]).max() > 300  # Kokoro's lead-in silence is cut: sound within 0.1 s


def test_mandarin_speaks_through_misaki(spoken: Spoken) -> None:
    assert "↘" in spoken.mandarin_phonemes or "↓" in spoken.mandarin_phonemes
    chunks = spoken.mandarin
    assert chunks and chunks[0].duration_s > 0.4


def _texts(text: str, language: str | None = None) -> list[str]:
    return list(stream_pieces(text, language))


def test_first_clause_is_its_own_piece() -> None:
    text = "Por favor, muestre su tarjeta de residencia. Gracias."
    assert _texts(text, "es") == ["Por favor,", "muestre su tarjeta de residencia.", "Gracias."]
    assert _texts("Sí, gracias.", "es") == ["Sí, gracias."]  # short enough: whole
    assert "ˈ" in phonemizer_for("es", "es-419")("muestre su tarjeta")


def test_the_first_piece_is_the_first_words_within_half_a_second() -> None:
    ja = "こちらの用紙にお名前とご住所をご記入ください。"
    assert _texts(ja, "ja") == ["こちらの", "用紙にお名前とご住所をご記入ください。"]
    # one accent phrase longer than the budget is still the first piece (never cut inside a phrase)
    assert _texts("住民票の写しは、こちらです。", "ja") == ["住民票の", "写しは、こちらです。"]
    # OpenJTalk reads 15 as 十五: phrases up to there still count
    assert _texts("出生日や転入日の翌日から15日以内に申請してください。", "ja")[0] == "出生日や"
    assert _texts("お待ちください。", "ja") == ["お待ちください。"]  # short: whole
    assert _texts("はい、わかりました。", "ja") == ["はい、", "わかりました。"]  # a clause mark wins
    # Mandarin: never cut inside the first clause (a join is heard as a pause inside a word)
    zh = "请在这个窗口领取住民票的副本。"
    assert _texts(zh, "zh") == [zh]
    assert _texts("您好，请在这个窗口领取住民票的副本。", "zh") == ["您好，请在这个窗口领取住民票的副本。"]
    zh_clauses = "请您在这个窗口领取住民票的副本，然后到三号窗口付款。"
    assert _texts(zh_clauses, "zh") == ["请您在这个窗口领取住民票的副本，", "然后到三号窗口付款。"]
    en = "You can pick up the copy of your residence certificate at this counter."
    assert next(stream_pieces(en, "en")) == "You can pick"
    # never "Faça a | solicitação": a short word (an article) does not end the first piece
    assert next(stream_pieces("Faça a solicitação dentro de 15 dias.", "pt")) == "Faça"
    assert " ".join(_texts(en, "en")) == en


def test_a_long_piece_is_cut_near_its_middle() -> None:
    """One run's memory grows with its audio; a long sentence is cut at word ends into shorter runs."""
    es = (
        "Para recoger la copia del certificado de residencia necesita su tarjeta de residencia "
        "y el formulario firmado por usted."
    )
    pieces = list(stream_pieces(es, "es"))
    assert " ".join(pieces) == es
    assert len(pieces) == 3 and all(len(piece) <= LONG_PIECE_SPACED for piece in pieces)


def test_numbers_are_never_cut_between_pieces() -> None:
    """8:30, 1,000 and phone numbers stay in one piece: each piece is read alone (8: | 30 is two numbers)."""
    assert any("1,000 yen," in piece for piece in _texts("The fee is 1,000 yen, paid here.", "en"))
    # Mandarin numbers are in words before the cut, so no piece holds digits to misread
    hours = "窗口受理时间为上午8:30至下午5:15，周六周日休息。"
    assert _texts(hours, "zh") == ["窗口受理时间为上午八点三十分至下午五点十五分，", "周六周日休息。"]
    phone = "如有不明白的地方请拨打市政府代表电话03-1234-5678或者直接到二楼的综合窗口咨询我们的工作人员。"
    pieces = _texts(phone, "zh")
    assert len(pieces) > 1 and "".join(pieces) == spoken_numbers(phone)
    assert "零三，幺二三四，五六七八" in "".join(pieces)


@pytest.mark.parametrize(
    "text",
    [
        "如有任何疑问请拨打03-1234-5678。",
        "如有任何疑问请在工作日的上午或者下午拨打我们的代表电话03-1234-5678，或者发送邮件。",
        "请写上您现在住所的邮编〒120-0001，然后交给窗口。",
    ],
)
def test_a_mandarin_phone_number_or_postal_code_is_not_cut_at_its_group_commas(text: str) -> None:
    """零三，幺二三四，五六七八 is one number: the clause cut and the middle cut skip its commas."""
    pieces = _texts(text, "zh")
    assert "".join(pieces) == spoken_numbers(text)
    number = re.search(r"[零幺一二三四五六七八九]+(?:，[零幺一二三四五六七八九]+)+", spoken_numbers(text))
    assert number and any(number.group(0) in piece for piece in pieces)


@pytest.mark.parametrize(
    ("text", "language", "number"),
    [
        (
            "Merci. Les frais de dossier pour le renouvellement de la carte de séjour sont de 10 000 yens "
            "à payer au guichet numéro trois de la mairie avant vendredi prochain.",
            "fr",
            "10 000",
        ),
        (
            "Thank you. If anything is unclear please call the city office at 03 1234 5678 "
            "and ask for the residents section on the second floor.",
            "en",
            "03 1234 5678",
        ),
    ],
)
def test_a_number_in_spaced_groups_is_not_cut_at_its_spaces(text: str, language: str, number: str) -> None:
    """A long piece is cut at the space nearest its middle, but not at a space inside 10 000 or 03 1234 5678
    (each half would be read as a number of its own)."""
    pieces = _texts(text, language)
    assert " ".join(pieces) == text and len(pieces) == 3
    assert any(number in piece for piece in pieces)


def test_a_mandarin_word_holding_a_numeral_is_cut_as_any_word() -> None:
    """统一 and 一样 are words, not numbers: the cut nearest the middle may follow them."""
    unified = "谢谢。按照市政府的规定请所有的申请人统一的时间到这个窗口来提交申请材料。"
    assert _texts(unified, "zh") == [
        "谢谢。",
        "按照市政府的规定请所有的申请人统一",
        "的时间到这个窗口来提交申请材料。",
    ]
    same = "谢谢。这次申请需要的手续和材料跟以前一样的请您带到这个窗口来提交给我们。"
    assert _texts(same, "zh") == [
        "谢谢。",
        "这次申请需要的手续和材料跟以前一样",
        "的请您带到这个窗口来提交给我们。",
    ]


def test_a_mandarin_number_is_spelled_before_the_cut() -> None:
    """A cut next to a number would read its half alone: 大约2026 | 年 as 二千零二十六, 2个 | 月 as 二个."""
    year = "请您在办理完转入手续以后大约2026年以内到这个窗口来领取新卡谢谢。"
    pieces = _texts(year, "zh")
    assert len(pieces) > 1 and "".join(pieces) == year.replace("2026", "二零二六")
    assert any("二零二六年" in piece for piece in pieces)
    months = "请您在办理完转入手续以后大约2个月以内到这个窗口来领取新卡谢谢。"
    pieces = _texts(months, "zh")
    assert len(pieces) > 1 and "".join(pieces) == months.replace("2个", "两个")
    assert any("两个月" in piece for piece in pieces)


def test_the_rest_of_a_clause_cut_keeps_its_spaces() -> None:
    """Every character is spoken once, in order: "2, 3 fotos" never becomes "2,3" (read "dos coma tres")."""
    es = "Por favor, traiga el pasaporte, 2, 3 fotos y la tarjeta."
    assert " ".join(_texts(es, "es")) == es
    en = "Please come back tomorrow, at 10, 11 or 12."
    assert " ".join(_texts(en, "en")) == en


_PEAK_CHILD = """
import json, sys
from pathlib import Path
from edge import engines
from edge.config import EdgeSettings

def mb(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1]) / 1024

settings = EdgeSettings(packs_dir=Path(sys.argv[1]), languages=["es"], fallback_voice_languages=[])
voice = engines.load_voice(engines.find_voices(settings)["es"])
before = mb("VmRSS")
audio = sum(c.duration_s for c in voice.synthesize(sys.argv[2]))
print(json.dumps({"before": before, "peak": mb("VmHWM"), "after": mb("VmRSS"), "audio_s": audio}))
"""


def test_one_long_sentence_keeps_the_model_within_its_memory() -> None:
    """A model run's activations grow with its audio; the arena keeps them bounded and gives them back
    (with plain allocations a 5 s sentence took the process past 1.1 GB)."""
    sentence = (
        "Para recoger la copia del certificado de residencia necesita su tarjeta de residencia "
        "y el formulario firmado por usted."
    )
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, str(kokoro_store().root), sentence],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["audio_s"] > 5.0
    assert measured["peak"] - measured["before"] < 350, measured  # the model and one run's activations
    assert measured["after"] < measured["peak"] - 30, measured  # the arena went back after the run


def test_slow_voices_load_in_the_background(english_synthesizer) -> None:  # type: ignore[no-untyped-def]
    """A Kokoro voice loads nothing heavy when created; the counter's start warms it in a thread."""
    from edge.turn.load import warm_slow_voices_in_background

    store = kokoro_store()
    settings = EdgeSettings(packs_dir=store.root, languages=["pt"], fallback_voice_languages=[])
    voice = engines.load_voice(engines.find_voices(settings)["pt"])
    assert isinstance(voice, KokoroSynthesizer) and not voice.ready
    assert warm_slow_voices_in_background({"en": english_synthesizer}) is None  # Piper warms in line
    thread = warm_slow_voices_in_background({"pt": voice, "en": english_synthesizer})
    assert thread is not None
    thread.join(300)
    assert voice.ready


def test_a_stopping_counter_does_not_start_warming_another_voice() -> None:
    """Ctrl+C or SIGTERM stops the background warm-up between voices: the process exits after the voice
    being warmed, not after every Kokoro voice (the interpreter waits for that thread)."""
    from edge.turn import load

    store = kokoro_store()
    settings = EdgeSettings(packs_dir=store.root, languages=["pt"], fallback_voice_languages=[])
    voice = engines.load_voice(engines.find_voices(settings)["pt"])
    load.stop_background_warming()
    try:
        thread = load.warm_slow_voices_in_background({"pt": voice})
        assert thread is not None
        thread.join(timeout=120)
        assert not thread.is_alive() and not voice.ready
    finally:
        load._STOP_WARMING.clear()
