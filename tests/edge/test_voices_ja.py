"""The Japanese voice Mei (OpenJTalk): the pack, the glossary's readings, furigana-true Easy Japanese, and
the pipeline speaking Japanese to the clerk and to a resident who chose やさしい日本語."""

from __future__ import annotations

import numpy as np
import pytest

from edge.easy_ja import default_easy_japanese
from edge.events import SpeechAudio
from edge.speech.voices.ja_reading import displayed_reading
from edge.speech.voices.openjtalk import OpenJTalkSynthesizer
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary
from glossary.kana import to_katakana
from models import Catalogue
from tests.support.data import default_store, mei_voice

#: Glossary terms whose reading is not OpenJTalk's first guess (分別 is ふんべつ in its dictionary).
MISREAD_TERMS = ("分別", "納期限", "病児保育", "非常持出袋")


@pytest.fixture(scope="module")
def glossary():  # type: ignore[no-untyped-def]
    return bundled_glossary()


@pytest.fixture(scope="module")
def mei(glossary) -> OpenJTalkSynthesizer:  # type: ignore[no-untyped-def]
    return OpenJTalkSynthesizer(mei_voice(), glossary=glossary)


@pytest.fixture(scope="module")
def plain_mei() -> OpenJTalkSynthesizer:
    return OpenJTalkSynthesizer(mei_voice())


def test_mei_pack_carries_its_cc_by_attribution() -> None:
    spec = Catalogue.load().get("openjtalk-mei")
    assert spec.kind == "tts" and spec.engine == "openjtalk" and spec.languages == ("ja",)
    assert spec.license.spdx == "CC-BY-3.0" and "Nagoya Institute of Technology" in spec.license.attribution
    installed = default_store().get("openjtalk-mei")
    assert installed.runtime_path("voice_file").stat().st_size == 862503
    assert "Creative Commons" in (installed.model_dir / "LICENSE_mei_normal.htsvoice").read_text()


def test_mei_speaks_japanese_one_chunk_per_sentence(mei: OpenJTalkSynthesizer) -> None:
    chunks = list(mei.synthesize("住民票の写しですね。少々お待ちください。"))
    assert [c.index for c in chunks] == [0, 1]
    assert all(c.sample_rate == 48000 for c in chunks)
    for chunk in chunks:
        samples = chunk.samples().astype(np.float32)
        assert chunk.duration_s > 0.6 and np.sqrt(np.mean(samples**2)) > 300  # speech, not silence
    assert list(mei.synthesize("。、")) == []


@pytest.mark.parametrize("term", MISREAD_TERMS)
def test_glossary_readings_override_the_dictionary(
    term: str, mei: OpenJTalkSynthesizer, plain_mei: OpenJTalkSynthesizer, glossary
) -> None:  # type: ignore[no-untyped-def]
    wanted = to_katakana(next(t.reading for t in glossary.terms.values() if t.ja == term))
    assert plain_mei.reading(term) != wanted  # OpenJTalk alone misreads it
    assert mei.reading(term) == wanted
    sentence = f"{term}について説明します。"
    assert mei.reading(sentence).startswith(wanted)


def test_a_new_glossary_version_changes_the_reading(mei: OpenJTalkSynthesizer, glossary) -> None:  # type: ignore[no-untyped-def]
    from glossary import Glossary

    assert mei.reading("分別") == "ブンベツ"
    try:
        mei.set_glossary(Glossary.from_items([]))
        assert mei.reading("分別") == "フンベツ"
    finally:
        mei.set_glossary(glossary)
    assert mei.reading("分別") == "ブンベツ"


@pytest.mark.parametrize(
    "sentence",
    ["一日に来てください。", "今月の一日は休みです。", "私が行きます。", "この書類に名前を書いてください。"],
)
def test_easy_japanese_is_spoken_with_the_furigana_shown(sentence: str, mei: OpenJTalkSynthesizer) -> None:
    segments = tuple((s.text, s.reading) for s in default_easy_japanese().furigana(sentence).segments)
    shown = displayed_reading(segments)
    assert mei.reading(mei.spoken_text(segments)) == shown
    assert list(mei.synthesize_readings(segments))


def test_one_day_is_read_tsuitachi_where_the_screen_says_so(mei: OpenJTalkSynthesizer) -> None:
    segments = tuple(
        (s.text, s.reading) for s in default_easy_japanese().furigana("一日に来てください。").segments
    )
    assert ("一日", "ついたち") in segments
    assert mei.reading("一日に来てください。").startswith("イチニチ")  # the voice's own guess differs
    assert mei.reading(mei.spoken_text(segments)).startswith("ツイタチ")


def test_pipeline_speaks_easy_japanese_and_replies_to_the_clerk(mei: OpenJTalkSynthesizer) -> None:
    pipe = TurnPipeline(None, {"ja": mei}, None, languages=("ja", "en"))
    events: list[object] = []
    result = pipe.translate_text("一日に来てください。", "ja", "ja-easy", events.append)
    assert result.voice == "openjtalk-mei" and result.audio is not None
    assert result.readings and ("1日", "ついたち") in result.readings  # the rewrite writes digits
    assert mei.reading(mei.spoken_text(result.readings)) == displayed_reading(result.readings)
    assert [e for e in events if isinstance(e, SpeechAudio)][-1].is_last
    assert result.to_dict()["readings"][0]["text"]
    reply = pipe.translate_text("住民票をください。", "ja", "ja")  # a reply shown to the clerk in Japanese
    assert reply.audio is not None and reply.voice_quality == "neural"
    quiet = TurnPipeline(None, {"ja": mei}, None, languages=("ja", "en"), speak_to_clerk=False)
    assert quiet.translate_text("住民票をください。", "ja", "ja").audio is None
    phrase = pipe.speak_text("一日に来てください。", "ja-easy")
    assert phrase.readings and ("一日", "ついたち") in phrase.readings and phrase.audio is not None
