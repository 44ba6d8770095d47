"""Finding approved terms in text of a non-Japanese glossary language (the resident's side).

``TermMatcher`` indexes the Japanese forms (and ASR readings) of each term; this matcher indexes the
approved translation of each term in one language, so an English or Portuguese sentence can go through
the same protect → MT → restore enforcement. Forms: the approved term, and the term without a trailing
parenthesised romanisation ("Atestado de Residência (Juminhyo)" also matches "Atestado de Residência").
Matching is case- and width-insensitive, on word boundaries, longest first, never overlapping.
"""

from __future__ import annotations

import re
import unicodedata

from glossary.match import TermMatch
from glossary.schema import Glossary

_PAREN_TAIL = re.compile(r"\s*[(（][^)）]*[)）]\s*$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class TranslatedTermMatcher:
    """Approved terms of ``language`` found in text of that language."""

    def __init__(self, glossary: Glossary, language: str, *, min_chars: int = 4) -> None:
        """Index every term's approved ``language`` translation (forms shorter than ``min_chars`` skipped)."""
        self.language = language
        forms: dict[str, str] = {}
        for term in glossary.terms.values():
            approved = term.translations.get(language, "").strip()
            for form in (approved, _PAREN_TAIL.sub("", approved)):
                if len(form) >= min_chars:
                    forms.setdefault(_fold(form), term.id)
        ordered = sorted(forms, key=len, reverse=True)
        self._ids = forms
        self._pattern = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(f) for f in ordered) + r")(?!\w)")
            if ordered
            else None
        )

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches at original offsets (NFKC folding keeps these Latin texts' lengths)."""
        folded = _fold(text)
        if self._pattern is None or len(folded) != len(text):
            return []
        return [
            TermMatch(self._ids[m.group(1)], m.start(), m.end(), text[m.start() : m.end()], via="translation")
            for m in self._pattern.finditer(folded)
        ]
