"""Kokoro Mandarin phonemes: misaki[zh]'s pinyin → IPA, with numbers said as numbers and Latin words in
English (real misaki, jieba, pypinyin and espeak-ng)."""

from __future__ import annotations

import pytest

from edge.speech.voices.kokoro_phonemes import EspeakIpa, phonemizer_for
from edge.speech.voices.kokoro_zh import MandarinPhonemes

pytestmark = pytest.mark.slow  # jieba's dictionary loads in about a second


@pytest.fixture(scope="module")
def mandarin() -> MandarinPhonemes:
    phonemes = phonemizer_for("zh")
    assert isinstance(phonemes, MandarinPhonemes)
    return phonemes


def test_amounts_are_said_as_amounts(mandarin: MandarinPhonemes) -> None:
    from misaki.zh import ZHG2P

    said = mandarin("手续费是300日元。")
    assert said == mandarin("手续费是三百日元。")
    assert ZHG2P.word2ipa("三百").replace(chr(815), "") in said  # misaki: 三零 (sa→nliŋ↗)
    assert mandarin("每次支付2个月的金额") == mandarin("每次支付两个月的金额")
    assert mandarin("上午8:30") == mandarin("上午八点三十分")


def test_chinese_text_keeps_the_phonemes_kokoro_was_trained_with(mandarin: MandarinPhonemes) -> None:
    from misaki.zh import ZHG2P

    for text in ("请在出生日或迁入日的次日起十五天以内申请。", "地址或账户变更时，请办理申报。"):
        assert mandarin(text) == ZHG2P()(text)[0]


def test_latin_words_are_spoken_in_english(mandarin: MandarinPhonemes) -> None:
    said = mandarin("需要记载个人编号（My Number）吗？")
    assert EspeakIpa("en-us")("My Number") in said
    assert "Number" not in said and "❓" not in said
    assert said.startswith(mandarin("需要记载个人编号"))


def test_full_width_latin_words_are_spoken_in_english(mandarin: MandarinPhonemes) -> None:
    """Machine-translated Chinese may write Latin letters full width; they are English all the same."""
    said = mandarin("请带Ｍｙ Ｎｕｍｂｅｒ卡来。")
    assert said == mandarin("请带My Number卡来。")
    assert EspeakIpa("en-us")("My Number") in said


def test_wei_is_read_as_meant(mandarin: MandarinPhonemes) -> None:
    """为 is wéi where it means "is" or "as" (the phrase book's 受理时间为上午, 登记为, 比例为), wèi where it
    means "for" or "because"; pypinyin read the standalone 为 and 视为 as wèi."""
    from misaki.zh import ZHG2P

    wei2, wei4 = (ZHG2P.py2ipa(py).replace(chr(815), "") for py in ("wei2", "wei4"))
    for text in ("窗口受理时间为上午八点三十分。", "请携带已登记为保险证的个人编号卡。", "视为", "改为"):
        said = mandarin(text)
        assert wei2 in said and wei4 not in said, text
    for text in ("我们为您办理。", "因为", "为了安全", "为什么"):
        said = mandarin(text)
        assert wei4 in said and wei2 not in said, text
    assert mandarin("时间为上午") == mandarin("时间") + " " + wei2 + " " + mandarin("上午")
