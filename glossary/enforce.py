"""Glossary enforcement around machine translation: protect, restore, verify.

    p = protect(source_text, matcher.find(source_text))   # terms → placeholders ZX1, ZX2, …
    out = mt(p.text)                                      # any MT, pivots included
    e = restore(out, p, glossary, target_lang)            # placeholders → approved terms

Placeholder design: ``ZX1``, ``ZX2``… (upper-case Latin letters plus a number, no markup).

- Subword MT models (quickmt, OPUS-MT, M2M-100 with SentencePiece) copy short Latin
  letter-digit codes verbatim, the way they copy form numbers and product codes in their
  training data, also through an English pivot.
- Markup tags such as ``<x1>`` are split into ``<``/``x``/``1``/``>`` pieces that models reorder
  or drop; English words such as ``TERM1`` get translated ("término 1"); bare numbers are
  localised and collide with real numbers (dates, fees) that counter talk is full of.
- ``ZX`` is no word in any counter language. If the source text already holds ``ZX<digits>``,
  another prefix (``QX``, ``XQ``…) is chosen.

Restoring tolerates common garbling (``zx1``, ``ZX 1``, ``ZX-1``, ``Zx１``). A placeholder that
is missing falls back: its approved term is appended in brackets at the end of the sentence,
its id goes to ``fallback`` and the result is ``flagged``. Verification then checks that every
approved target term is present in the final text. Pure functions: no MT, no I/O.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from glossary.errors import GlossaryError
from glossary.match import TermMatch, TermMatcher
from glossary.schema import Glossary, Term

_LOGGER = logging.getLogger(__name__)

PLACEHOLDER_PREFIXES: Final[tuple[str, ...]] = ("ZX", "QX", "XQ", "ZQ", "QZ")


@dataclass(frozen=True)
class ProtectedText:
    """Source text with each matched term replaced by a numbered placeholder."""

    text: str
    slots: tuple[str, ...]
    """Term id of placeholder 1, 2, … (a term occurring twice has two slots)."""
    prefix: str = "ZX"
    source: str = ""
    matches: tuple[TermMatch, ...] = ()

    def placeholder(self, index: int) -> str:
        """The placeholder of slot ``index`` (0-based)."""
        return f"{self.prefix}{index + 1}"


@dataclass(frozen=True)
class EnforcedText:
    """A translation with the approved terms restored and checked."""

    text: str
    applied: tuple[str, ...] = ()
    """Term ids whose placeholder came back and was replaced by the approved term."""
    fallback: tuple[str, ...] = ()
    """Term ids appended in brackets because the model dropped or garbled the placeholder."""
    missing: tuple[str, ...] = ()
    """Term ids whose approved term is still absent after restoring (verification failed)."""
    flagged: bool = False
    """True when anything went through the fallback or failed verification: show a mark."""
    details: dict[str, str] = field(default_factory=dict)
    """Approved target term per term id (for the UI marks)."""


def _choose_prefix(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).upper()
    for prefix in PLACEHOLDER_PREFIXES:
        if not re.search(rf"{prefix}\s*\d", folded):
            return prefix
    raise GlossaryError("source text holds every placeholder prefix; cannot protect its terms")


def _fuses(ch: str) -> bool:
    """True for characters that would read as part of a placeholder (digits, Latin letters)."""
    return ch.isdigit() or (ch.isascii() and ch.isalpha()) or "\uff21" <= ch <= "\uff5a"


def protect(
    source_text: str,
    matches: Sequence[TermMatch] | None = None,
    *,
    matcher: TermMatcher | None = None,
) -> ProtectedText:
    """Replace each matched term by a placeholder.

    Args:
        source_text: the text to translate.
        matches: matches in ``source_text`` (e.g. ``matcher.find(source_text)``); overlapping
            matches after the first are ignored.
        matcher: used to find the matches when ``matches`` is None.

    Raises:
        GlossaryError: a match does not fit the text.
    """
    if matches is None:
        matches = matcher.find(source_text) if matcher is not None else []
    prefix = _choose_prefix(source_text)
    parts: list[str] = []
    slots: list[str] = []
    used: list[TermMatch] = []
    pos = 0
    for m in sorted(matches, key=lambda m: (m.start, -m.end)):
        if not (0 <= m.start < m.end <= len(source_text)):
            raise GlossaryError(f"match {m.term_id} [{m.start}:{m.end}] lies outside the text")
        if m.start < pos:
            continue
        parts.append(source_text[pos : m.start])
        slots.append(m.term_id)
        used.append(m)
        # A digit or Latin letter next to ZX2 would fuse with it (ZX26年): keep a space between.
        before = " " if m.start > 0 and _fuses(source_text[m.start - 1]) else ""
        after = " " if m.end < len(source_text) and _fuses(source_text[m.end]) else ""
        parts.append(f"{before}{prefix}{len(slots)}{after}")
        pos = m.end
    parts.append(source_text[pos:])
    return ProtectedText("".join(parts), tuple(slots), prefix, source_text, tuple(used))


def approved_term(term: Term, target_lang: str) -> str:
    """The approved term in the target language (Japanese headword for ``ja``/``ja-easy``)."""
    if target_lang in ("ja", "ja-easy"):
        return term.ja
    return term.translations.get(target_lang) or term.translations.get("en") or term.ja


def _placeholder_re(prefix: str) -> re.Pattern[str]:
    # No left boundary: models glue placeholders to neighbours ("theZX1"), and the prefix was
    # chosen absent from the source. Full-width letters too (ＺＸ１): some models emit them.
    a, b = (f"[{c}{chr(ord(c) + 0xFEE0)}]" for c in prefix[:2])
    return re.compile(rf"{a}\s?{b}\s?[-_#]?\s?0*(\d{{1,3}})(?!\d)", re.IGNORECASE)


def found_placeholders(translated_text: str, protected: ProtectedText) -> set[int]:
    """1-based slots whose placeholder came back in ``translated_text`` (garbled forms included)."""
    slots = range(1, len(protected.slots) + 1)
    found: set[int] = set()
    for m in _placeholder_re(protected.prefix).finditer(translated_text):
        idx, _ = _split_slot(m.group(1), slots)
        if idx in slots:
            found.add(idx)
    return found


def _split_slot(digits: str, slots: Container[int]) -> tuple[int, str]:
    """The slot number a placeholder's digits name, and the digits after it.

    ``ZX26`` where the model dropped the space of ``ZX2 6``: the longest known slot, then the digits.
    """
    rest = ""
    while len(digits) > 1 and int(digits) not in slots:
        digits, rest = digits[:-1], digits[-1] + rest
    return int(digits), rest


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)$")
_CASED_TARGETS: Final = frozenset({"en", "vi", "tl", "pt", "id", "es"})


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def verify(text: str, term_ids: Iterable[str], glossary: Glossary, target_lang: str) -> list[str]:
    """Term ids whose approved target term does not occur in ``text`` (case and width folded)."""
    folded = _fold(text)
    missing: list[str] = []
    for term_id in dict.fromkeys(term_ids):
        term = glossary.terms.get(term_id)
        if term is None or _fold(approved_term(term, target_lang)) not in folded:
            missing.append(term_id)
    return missing


def restore(
    translated_text: str, protected: ProtectedText, glossary: Glossary, target_lang: str
) -> EnforcedText:
    """Put the approved target terms in place of the placeholders, with fallback and verification.

    Args:
        translated_text: the MT output of ``protected.text`` (possibly through a pivot).
        protected: what :func:`protect` returned for the source.
        glossary: the glossary whose approved terms are restored.
        target_lang: language of ``translated_text``.
    """
    approved: dict[int, str] = {}
    for idx, term_id in enumerate(protected.slots, start=1):
        term = glossary.terms.get(term_id)
        approved[idx] = approved_term(term, target_lang) if term else ""
    text, found = _substitute(translated_text, protected, approved, target_lang)
    applied = [protected.slots[i - 1] for i in sorted(found)]
    fallback, extra = _fallbacks(protected.slots, approved, found, applied)
    if extra:
        text = f"{text} [{'; '.join(dict.fromkeys(extra))}]".strip()
    missing = verify(text, protected.slots, glossary, target_lang)
    flagged = bool(fallback or missing)
    if flagged and _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug("glossary fallback %s, missing %s (%s)", fallback, missing, target_lang)
    details = {tid: approved[i] for i, tid in enumerate(protected.slots, start=1)}
    return EnforcedText(
        text=text,
        applied=tuple(dict.fromkeys(applied)),
        fallback=tuple(fallback),
        missing=tuple(missing),
        flagged=flagged,
        details=details,
    )


def _substitute(
    translated_text: str, protected: ProtectedText, approved: dict[int, str], target_lang: str
) -> tuple[str, set[int]]:
    """``translated_text`` with each placeholder replaced by its approved term, and the slots found.

    A stray or invented placeholder is dropped, and so is a bare prefix left without its number; a term
    that starts a sentence in a cased language is capitalised.
    """
    found: set[int] = set()
    if not protected.slots:
        return translated_text, found

    def _sub(m: re.Match[str]) -> str:
        idx, rest = _split_slot(m.group(1), approved)
        term = approved.get(idx)
        if not term:
            return rest
        found.add(idx)
        at_start = _SENTENCE_START.search(m.string, 0, m.start()) is not None
        if at_start and target_lang in _CASED_TARGETS and term[:1].islower():
            return term[:1].upper() + term[1:] + rest
        return term + rest

    text = _placeholder_re(protected.prefix).sub(_sub, translated_text)
    text = re.sub(rf"(?<![A-Za-z]){protected.prefix}(?![A-Za-z])", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip(), found


def _fallbacks(
    slots: tuple[str, ...], approved: dict[int, str], found: set[int], applied: list[str]
) -> tuple[list[str], list[str]]:
    """Term ids whose placeholder was lost (once each), and their approved terms to append."""
    fallback: list[str] = []
    extra: list[str] = []
    for idx in (i for i in approved if i not in found):
        term_id = slots[idx - 1]
        if term_id in applied or term_id in fallback:
            continue
        fallback.append(term_id)
        if approved[idx]:
            extra.append(approved[idx])
    return fallback, extra
