"""What every rule receives, and the placeholder range that protects glossary terms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from edge.easy_ja.analyzer import Analyzer, Morpheme
from edge.easy_ja.paraphrases import ParaphraseDictionary

PLACEHOLDER_BASE: Final = 0xE000
"""Glossary terms become one private-use character each (U+E000 + index) while the rules run."""


@dataclass(frozen=True)
class RuleContext:
    """What the rules need: the analyser and the paraphrase dictionary."""

    analyzer: Analyzer
    paraphrases: ParaphraseDictionary


RuleFn = Callable[[str, RuleContext], tuple[str, bool]]


def next_surface(ms: list[Morpheme], i: int) -> str:
    """The surface of the morpheme after ``i`` ("" at the end)."""
    return ms[i + 1].surface if i + 1 < len(ms) else ""


def replace_all(text: str, pairs: Iterable[tuple[str, str]]) -> tuple[str, bool]:
    """Apply each (old, easy) replacement in order; return the text and whether it changed."""
    new = text
    for old, easy in pairs:
        new = new.replace(old, easy)
    return new, new != text
