"""Finding glossary terms in Japanese text, including what an ASR engine makes of them.

Every written form of a term is normalised and put into one character trie, built once:

- NFKC (full-width Latin and digits, half-width katakana incl. ｶﾞ-style voiced marks) and case folding;
- katakana folded to hiragana, so マイナンバー, まいなんばー and ﾏｲﾅﾝﾊﾞｰ are one key;
- spaces (ASCII, ideographic, NBSP) and middle dots removed, as ASR inserts them freely;
- forms indexed per term: the headword, its variants, its kana reading (ASR output じゅうみんひょう),
  mixed forms from aligning headword and reading (住民票のうつし, じゅうみんひょうの写し) and forms
  with short okurigana between kanji dropped (申し込み書 → 申込書, 住民票の写し → 住民票写し).

Text is normalised the same way, keeping for every normalised character the span of the original
characters it came from, so matches are reported at their *original* offsets.

False positives: a short kana-only key (ぜい, こめ, ほけん) occurs inside many other words, so a
kana-only form is indexed only when it has at least ``min_kana_chars`` morae (small ゃゅょぁ… not
counted): 4 for readings, variants and generated forms, 3 for a kana headword. Candidates from
every start position are resolved longest-first (then leftmost), never overlapping. A match must
also sit at a word boundary: not inside a longer katakana word (ボール in ボールドウィン), and a
two-kanji key not inside a longer kanji run on both sides (国保 in 中国保健).
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

from glossary.kana import to_hiragana
from glossary.schema import Glossary, Term

_LOGGER = logging.getLogger(__name__)

_COMBINING: Final = frozenset("\uff9e\uff9f\u3099\u309a")
_DROPPED: Final = frozenset(" \t\r\n\u3000\u00a0\u200b・･")
_SMALL_KANA: Final = frozenset("ぁぃぅぇぉゃゅょゎゕゖ")  # っ is a mora of its own
_TERMINAL: Final = ""  # trie key of a node's value: never a character of a key

#: Priority of a form when two terms share a key (lower wins).
_FORM_PRIORITY: Final = {"headword": 0, "variant": 1, "reading": 2, "generated": 3}


@dataclass(frozen=True)
class MatchOptions:
    """How eagerly the matcher indexes kana forms."""

    min_kana_chars: int = 4
    """Shortest kana-only reading, variant or generated form indexed (in kana, small kana not counted)."""
    min_kana_headword_chars: int = 3
    """Shortest kana-only headword indexed."""
    readings: bool = True
    """Index kana readings (what ASR writes for a term it does not know in kanji)."""
    generated: bool = True
    """Index mixed kanji/kana forms and okurigana-dropped forms derived from the headword."""
    reviewed_only: bool = False
    """Match reviewed terms only (a counter set to use reviewed content)."""


@dataclass(frozen=True)
class TermMatch:
    """A term found in text: ``text[start:end] == surface`` (original offsets)."""

    term_id: str
    start: int
    end: int
    surface: str
    via: str = "headword"
    """Which form matched: headword, variant, reading or generated."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "term_id": self.term_id,
            "start": self.start,
            "end": self.end,
            "surface": self.surface,
            "via": self.via,
        }


_CHAR_CACHE: dict[str, str] = {}


def _fold_char(cluster: str) -> str:
    cached = _CHAR_CACHE.get(cluster)
    if cached is not None:
        return cached
    out = []
    for ch in to_hiragana(unicodedata.normalize("NFKC", cluster).casefold()):
        if ch in _DROPPED or ch.isspace():
            continue
        out.append(ch)
    folded = "".join(out)
    if len(_CHAR_CACHE) < 20000:
        _CHAR_CACHE[cluster] = folded
    return folded


def normalize_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """Normalised text plus, per normalised character, the original start and end offsets."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and text[j] in _COMBINING:
            j += 1
        for ch in _fold_char(text[i:j]):
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def normalize(text: str) -> str:
    """The matching form of ``text`` (width-folded, hiragana, no spaces)."""
    return normalize_with_offsets(text)[0]


def is_kana(text: str) -> bool:
    """True when ``text`` (normalised) is hiragana and long-vowel marks only."""
    return bool(text) and all("\u3041" <= ch <= "\u309f" or ch == "ー" for ch in text)


def kana_length(text: str) -> int:
    """Morae, roughly: kana without small ゃゅょぁ… (they do not make a word longer to the ear)."""
    return sum(1 for ch in text if ch not in _SMALL_KANA)


def _runs(headword: str) -> list[tuple[bool, str]]:
    """Split a normalised headword into (is_kana, run) pieces."""
    return [(k, "".join(g)) for k, g in itertools.groupby(headword, key=lambda c: is_kana(c))]


def generated_forms(term: Term, max_kanji_runs: int = 4) -> set[str]:
    """Forms derived from the headword: mixed kanji/kana and short okurigana dropped (normalised)."""
    head = normalize(term.ja)
    reading = normalize(term.reading)
    runs = _runs(head)
    forms: set[str] = set()
    kanji_runs = [r for k, r in runs if not k]
    if reading and 0 < len(kanji_runs) <= max_kanji_runs:
        pattern = "".join("(.+?)" if not k else re.escape(r) for k, r in runs)
        m = re.fullmatch(pattern, reading)
        if m:
            readings = iter(m.groups())
            choices = [[r] if k else [r, next(readings)] for k, r in runs]
            forms.update("".join(p) for p in itertools.product(*choices))
    # Short okurigana between two kanji runs: 申し込み書 → 申込書, 住民票の写し → 住民票写し.
    dropped = "".join(
        r for idx, (k, r) in enumerate(runs) if not (k and 0 < idx < len(runs) - 1 and len(r) <= 2)
    )
    forms.add(dropped)
    forms.discard(head)
    forms.discard(reading)
    return {f for f in forms if f}


def _is_katakana(ch: str) -> bool:
    return bool(ch) and ("\u30a1" <= ch <= "\u30fc" or "\uff66" <= ch <= "\uff9f")


def is_kanji(ch: str) -> bool:
    return bool(ch) and ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch in "々〆ヶ")


def _at_word_boundary(text: str, start: int, end: int, norm_len: int) -> bool:
    """False when a match is only a piece of a longer word of the original text.

    A katakana word is one unit: ボール in ボールドウィン is no 段ボール. A two-kanji key inside a
    run of kanji on both sides is part of another compound: 国保 in 中国保健 is no 国保.
    """
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    first, last = text[start], text[end - 1]
    if (_is_katakana(first) and _is_katakana(before)) or (_is_katakana(last) and _is_katakana(after)):
        return False
    inside_kanji = is_kanji(before) and is_kanji(after)
    return not (norm_len <= 2 and inside_kanji and all(map(is_kanji, text[start:end])))


class TermMatcher:
    """Finds glossary terms in text; built once per glossary, then ``find`` is pure and fast."""

    def __init__(self, glossary: Glossary, options: MatchOptions | None = None) -> None:
        """Index the headword, variants, reading and generated forms of each term, as ``options`` say."""
        self.glossary = glossary
        self.options = options or MatchOptions()
        self._root: dict[str, Any] = {}
        self._entries: dict[str, tuple[int, str, str]] = {}
        for term in glossary.terms.values():
            if self.options.reviewed_only and not term.reviewed:
                continue
            self._add_term(term)
        for key, entry in self._entries.items():
            node = self._root
            for ch in key:
                node = node.setdefault(ch, {})
            node[_TERMINAL] = entry
        _LOGGER.debug("term matcher: %d keys for %d terms", len(self._entries), len(glossary.terms))

    def _add(self, key: str, term: Term, via: str) -> None:
        if not key:
            return
        if is_kana(key):
            minimum = (
                self.options.min_kana_headword_chars if via == "headword" else self.options.min_kana_chars
            )
            if kana_length(key) < minimum:
                return
        entry = (_FORM_PRIORITY[via], term.id, via)
        old = self._entries.get(key)
        if old is None or entry[:2] < old[:2]:
            self._entries[key] = entry

    def _add_term(self, term: Term) -> None:
        self._add(normalize(term.ja), term, "headword")
        for v in term.variants:
            self._add(normalize(v), term, "variant")
        if self.options.readings and term.reading:
            self._add(normalize(term.reading), term, "reading")
        if self.options.generated:
            for form in generated_forms(term):
                self._add(form, term, "generated")

    def find(self, text: str) -> list[TermMatch]:
        """Terms in ``text``: longest-first, non-overlapping, sorted by start (original offsets)."""
        norm, starts, ends = normalize_with_offsets(text)
        root = self._root
        n = len(norm)
        candidates: list[tuple[int, int, tuple[int, str, str]]] = []
        for i in range(n):
            node = root.get(norm[i])
            if node is None:
                continue
            found: list[tuple[int, tuple[int, str, str]]] = []
            j = i + 1
            while True:
                entry = node.get(_TERMINAL)
                if entry is not None:
                    found.append((j, entry))
                if j >= n:
                    break
                node = node.get(norm[j])
                if node is None:
                    break
                j += 1
            for j, entry in reversed(found):
                if _at_word_boundary(text, starts[i], ends[j - 1], j - i):
                    candidates.append((i, j, entry))
                    break
        if not candidates:
            return []
        candidates.sort(key=lambda c: (c[0] - c[1], c[0]))
        taken = [False] * n
        chosen: list[TermMatch] = []
        for i, j, (_, term_id, via) in candidates:
            if any(taken[i:j]):
                continue
            for k in range(i, j):
                taken[k] = True
            start, end = starts[i], ends[j - 1]
            chosen.append(TermMatch(term_id, start, end, text[start:end], via))
        chosen.sort(key=lambda m: m.start)
        return chosen

    def find_ids(self, text: str) -> list[str]:
        """Distinct term ids found in ``text``, in order of first occurrence."""
        return list(dict.fromkeys(m.term_id for m in self.find(text)))
