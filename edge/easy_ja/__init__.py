"""Easy Japanese (やさしい日本語) and furigana: the ``ja-easy`` target of the counter.

Offline and explainable: SudachiPy analyses the clerk's Japanese, small rules from the 在留支援のための
やさしい日本語ガイドライン rewrite it (each change reported by rule id), glossary terms stay official with
a short easy explanation, and every kanji gets a reading.
"""

from __future__ import annotations

import functools

from edge.easy_ja.analyzer import Analyzer, Morpheme, shared_analyzer
from edge.easy_ja.furigana import Furigana, FuriganaResult, Segment, to_ruby_html
from edge.easy_ja.numbers import counted_reading, number_reading
from edge.easy_ja.paraphrases import Paraphrase, ParaphraseDictionary, bundled_paraphrases
from edge.easy_ja.rewrite import EasyJapanese, EasyResult, EasySentence, TermNote, split_sentences
from edge.easy_ja.rules import ALL_RULE_IDS
from edge.easy_ja.vocabulary import BeginnerVocabulary, bundled_vocabulary

__all__ = [
    "ALL_RULE_IDS",
    "Analyzer",
    "BeginnerVocabulary",
    "EasyJapanese",
    "EasyResult",
    "EasySentence",
    "Furigana",
    "FuriganaResult",
    "Morpheme",
    "Paraphrase",
    "ParaphraseDictionary",
    "Segment",
    "TermNote",
    "bundled_paraphrases",
    "bundled_vocabulary",
    "counted_reading",
    "default_easy_japanese",
    "number_reading",
    "pre_edit_for_mt",
    "shared_analyzer",
    "split_sentences",
    "to_ruby_html",
]


@functools.lru_cache(maxsize=1)
def default_easy_japanese() -> EasyJapanese:
    """The process-wide ``EasyJapanese`` with the bundled glossary (loaded once)."""
    return EasyJapanese()


def pre_edit_for_mt(text: str, easy: EasyJapanese | None = None) -> str:
    """Japanese simplified for machine translation (``EdgeSettings.pre_edit_easy_ja``).

    Sentences the rules cannot simplify safely stay as they are; glossary terms stay as written
    (no bracketed explanation), so glossary enforcement still protects them.
    """
    return (easy or default_easy_japanese()).pre_edit(text)
