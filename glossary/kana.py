"""Kana folding for every package: hiragana ⇄ katakana, with jaconv's conversion tables.

Only full-width kana change (ぁ–ゖ ⇄ ァ–ヶ with ゔ ⇄ ヴ, and the iteration marks ゝゞ ⇄ ヽヾ); the
long-vowel mark ー, half-width katakana, kanji and everything else stay as they are (NFKC first where
half-width input matters, as ``glossary.match`` does).
"""

from __future__ import annotations

import jaconv


def to_katakana(text: str) -> str:
    """``text`` with its hiragana as katakana."""
    return str(jaconv.hira2kata(text))


def to_hiragana(text: str) -> str:
    """``text`` with its katakana as hiragana."""
    return str(jaconv.kata2hira(text))
