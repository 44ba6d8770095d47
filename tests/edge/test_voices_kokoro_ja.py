"""Kokoro Japanese reads as Mei does: the glossary's readings and, for Easy Japanese, the furigana shown.

Both voices get their readings from one place (``edge.speech.voices.ja_reading``: the glossary compiled
into an OpenJTalk user dictionary, and the text that makes OpenJTalk say the displayed furigana); Kokoro's
romaniser is fed with them. Checked on the phonemes the model is given (creating the voice loads no model).
"""

from __future__ import annotations

import pytest

from edge import engines
from edge.easy_ja import default_easy_japanese
from edge.speech.voices.kokoro import KokoroSynthesizer, kokoro_voice_ref
from glossary import Glossary, bundled_glossary
from tests.support.data import kokoro_store

#: Glossary terms whose reading is not OpenJTalk's first guess (分別 is ふんべつ in its dictionary).
MISREAD_TERMS = ("分別", "納期限", "病児保育", "非常持出袋")


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return bundled_glossary()


def _voice(glossary: Glossary | None) -> KokoroSynthesizer:
    store = kokoro_store()
    voice = engines.load_voice(kokoro_voice_ref(store, store.get("kokoro-ja-jf_alpha"), "ja"), glossary)
    assert isinstance(voice, KokoroSynthesizer)
    return voice


@pytest.fixture(scope="module")
def kokoro(glossary: Glossary) -> KokoroSynthesizer:
    return _voice(glossary)


@pytest.fixture(scope="module")
def plain_kokoro() -> KokoroSynthesizer:
    return _voice(None)


def _sounds(voice: KokoroSynthesizer, text: str) -> str:
    """The phonemes of ``text`` without word spaces (a reading in kana splits into words differently)."""
    return voice.phonemes(text).replace(" ", "")


@pytest.mark.parametrize("term", MISREAD_TERMS)
def test_glossary_terms_are_phonemised_with_the_glossary_reading(
    term: str, kokoro: KokoroSynthesizer, plain_kokoro: KokoroSynthesizer, glossary: Glossary
) -> None:
    reading = next(t.reading for t in glossary.terms.values() if t.ja == term).replace(" ", "")
    assert _sounds(plain_kokoro, term) != _sounds(plain_kokoro, reading)  # the dictionary misreads it
    assert _sounds(kokoro, term) == _sounds(kokoro, reading)  # long vowels too: のうきげん is noːkʲiɡeɴ
    assert _sounds(kokoro, f"{term}について説明します。").startswith(_sounds(kokoro, reading))
    assert not kokoro.ready  # phonemes only: the model is not loaded for this


def test_a_new_glossary_version_changes_the_phonemes(kokoro: KokoroSynthesizer, glossary: Glossary) -> None:
    with_reading = kokoro.phonemes("分別")
    assert with_reading.startswith("b")  # ぶんべつ
    try:
        kokoro.set_glossary(Glossary.from_items([]))
        assert kokoro.phonemes("分別").startswith("ɸ")  # ふんべつ, the dictionary's guess
    finally:
        kokoro.set_glossary(glossary)
    assert kokoro.phonemes("分別") == with_reading


def test_one_day_is_said_tsuitachi_where_the_screen_says_so(kokoro: KokoroSynthesizer) -> None:
    segments = tuple(
        (s.text, s.reading) for s in default_easy_japanese().furigana("一日に来てください。").segments
    )
    assert ("一日", "ついたち") in segments
    assert kokoro.phonemes("一日に来てください。").startswith("iʨiɲiʨi")  # its own guess: いちにち
    assert kokoro.phonemes(kokoro.spoken_text(segments)).startswith("ʦɨitaʨi")


def test_mei_and_kokoro_are_given_the_same_readings(kokoro: KokoroSynthesizer, glossary: Glossary) -> None:
    """One place decides readings: Kokoro's text for the furigana is Mei's."""
    from edge.speech.voices.openjtalk import OpenJTalkSynthesizer
    from tests.support.data import mei_voice

    mei = OpenJTalkSynthesizer(mei_voice(), glossary=glossary)
    easy = default_easy_japanese()
    for sentence in ("今月の一日は休みです。", "ごみの分別をしてください。"):
        segments = tuple((s.text, s.reading) for s in easy.furigana(sentence).segments)
        assert kokoro.spoken_text(segments) == mei.spoken_text(segments)
