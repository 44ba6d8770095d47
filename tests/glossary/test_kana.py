"""Kana folding: the one place every package turns hiragana into katakana and back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from glossary.kana import to_hiragana, to_katakana

HIRAGANA = "".join(chr(code) for code in range(0x3041, 0x3097)) + "ゝゞ"
KATAKANA = "".join(chr(code) for code in range(0x30A1, 0x30F7)) + "ヽヾ"


def test_every_kana_has_its_counterpart() -> None:
    assert to_katakana(HIRAGANA) == KATAKANA
    assert to_hiragana(KATAKANA) == HIRAGANA
    assert to_katakana("じゅうみんひょう") == "ジュウミンヒョウ" and to_hiragana("ヴィザ") == "ゔぃざ"


def test_everything_else_stays_as_written() -> None:
    other = "住民票 ー・、。ｶﾞｲｺｸｼﾞﾝ ABC１２３ヷヺ"  # half-width katakana too: NFKC first where it matters
    assert to_hiragana(other) == other == to_katakana(other)
    assert to_hiragana("マイナンバーカード") == "まいなんばーかーど"  # the long-vowel mark stays
    assert to_katakana("住民票の写し") == "住民票ノ写シ"


@given(st.text(alphabet=HIRAGANA + KATAKANA + "ー住民票AB 。"))
def test_folding_either_way_agrees(text: str) -> None:
    assert to_hiragana(to_katakana(text)) == to_hiragana(text)
    assert to_katakana(to_hiragana(text)) == to_katakana(text)
