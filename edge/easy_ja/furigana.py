"""Furigana: a reading over every kanji, as HTML ruby for the counter page and as 漢字[かんじ] for a CLI.

Where readings come from, in order of trust:

1. the glossary, for its terms (the official reading of 住民票 is じゅうみんひょう, whatever the
   analyser thinks); the term reading is aligned onto the surface so okurigana stay outside the ruby;
2. the counter-word table (:mod:`edge.easy_ja.numbers`) for a number + counter: 14日 → じゅうよっか;
3. the analyser (Sudachi) for everything else, aligned so that only kanji carry ruby (書いて →
   書[か]いて).

All text is HTML-escaped when the ruby HTML is built: the result is safe to insert as HTML.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from edge.easy_ja.analyzer import Analyzer
from edge.easy_ja.numbers import COUNTED_RE, counted_reading, to_int
from glossary.kana import to_hiragana

_LOGGER = logging.getLogger(__name__)

_KANJI_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")
_ONE_DAY_AFTER: Final = re.compile(
    r"^(?:に\s*[0-9０-９一二三四五六七八九十]+\s*回|中|以内|間|分|あたり|おき|で)"
)


def has_kanji(text: str) -> bool:
    """True when ``text`` holds at least one kanji."""
    return bool(_KANJI_RE.search(text))


@dataclass(frozen=True)
class Segment:
    """A piece of text and, for kanji, its hiragana reading (None: no ruby)."""

    text: str
    reading: str | None = None
    source: str = ""
    """Where the reading comes from: glossary, counter, analyser (empty without reading)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"text": self.text, "reading": self.reading, "source": self.source}


@dataclass(frozen=True)
class FuriganaResult:
    """Text with readings: ruby HTML (escaped), bracketed text, and the segments."""

    text: str
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def ruby_html(self) -> str:
        """``<ruby>漢字<rt>かんじ</rt></ruby>``, every piece of text HTML-escaped."""
        return to_ruby_html(self.segments)

    @property
    def bracketed(self) -> str:
        """``漢字[かんじ]`` form for terminals."""
        return "".join(s.text if s.reading is None else f"{s.text}[{s.reading}]" for s in self.segments)

    @property
    def reading(self) -> str:
        """The whole text in hiragana (kana and other characters as written, katakana folded)."""
        return "".join(to_hiragana(s.text) if s.reading is None else s.reading for s in self.segments)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "text": self.text,
            "ruby_html": self.ruby_html,
            "bracketed": self.bracketed,
            "segments": [s.to_dict() for s in self.segments],
        }


def to_ruby_html(segments: Iterable[Segment]) -> str:
    """Escaped ruby HTML of segments (plain escaped text where there is no reading)."""
    out = []
    for s in segments:
        if s.reading is None:
            out.append(html.escape(s.text))
        else:
            out.append(f"<ruby>{html.escape(s.text)}<rt>{html.escape(s.reading)}</rt></ruby>")
    return "".join(out)


_KANJI_CLASS: Final = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_RUN_RE: Final = re.compile(rf"[{_KANJI_CLASS}]+|[^{_KANJI_CLASS}]+")


def _runs(surface: str) -> list[tuple[str, str | None]]:
    """Kanji runs, other runs, and number + counter runs (with their reading from the table)."""
    runs: list[tuple[str, str | None]] = []
    pos = 0
    for m in COUNTED_RE.finditer(surface):
        n = to_int(m.group(1))
        if n is None:
            continue
        runs.extend((r.group(0), None) for r in _RUN_RE.finditer(surface[pos : m.start()]))
        runs.append((m.group(0), counted_reading(n, m.group(2))))
        pos = m.end()
    runs.extend((r.group(0), None) for r in _RUN_RE.finditer(surface[pos:]))
    return runs


def align(surface: str, reading: str, source: str) -> list[Segment] | None:
    """Split ``surface`` so only kanji runs carry ruby: (書いて, かいて) → 書[か] いて.

    A number + counter inside (1歳6か月児健診) is read from the counter table. Returns None when
    the reading does not fit the surface's kana (then the caller decides).
    """
    reading = to_hiragana(reading)
    runs = _runs(surface)
    if not any(has_kanji(r) for r, _ in runs):
        return [Segment(surface)]
    pattern = "".join(
        f"({re.escape(known)})" if known else "(.+?)" if has_kanji(r) else f"({re.escape(to_hiragana(r))})"
        for r, known in runs
    )
    m = re.fullmatch(pattern, reading)
    if m is None:
        return None
    return [
        Segment(run, known, "counter")
        if known
        else Segment(run, m.group(i + 1), source)
        if has_kanji(run)
        else Segment(run)
        for i, (run, known) in enumerate(runs)
    ]


def _reading_segments(surface: str, reading: str, source: str) -> list[Segment]:
    aligned = align(surface, reading, source)
    if aligned is not None:
        return aligned
    if has_kanji(reading):  # the analyser had no reading for an unknown word
        return [Segment(surface)]
    return [Segment(surface, to_hiragana(reading), source)]


@dataclass(frozen=True)
class _Fixed:
    start: int
    end: int
    segments: tuple[Segment, ...]


def _counter_spans(text: str) -> list[_Fixed]:
    spans = []
    for m in COUNTED_RE.finditer(text):
        n = to_int(m.group(1))
        if n is None:
            continue
        counter = m.group(2)
        if (m.group(1), counter) in (("十", "分"), ("一", "番"), ("一", "時")):
            continue  # じゅうぶん (enough), いちばん (most), いちじ/いっとき: the analyser reads these
        after = text[m.end() :]
        before = text[: m.start()]
        day_count = counter == "日" and (bool(_ONE_DAY_AFTER.match(after)) or before.endswith("毎"))
        if counter == "日" and before.rstrip().endswith(("月", "月の")):
            day_count = False
        reading = counted_reading(n, counter, day_count=day_count)
        spans.append(_Fixed(m.start(), m.end(), (Segment(m.group(0), reading, "counter"),)))
    return spans


class Furigana:
    """Adds readings to Japanese text (analyser loaded once, glossary readings override)."""

    def __init__(self, analyzer: Analyzer, glossary: Any | None = None) -> None:
        self._analyzer = analyzer
        self._glossary = glossary
        self._matcher = None
        if glossary is not None:
            from glossary import TermMatcher

            self._matcher = TermMatcher(glossary)

    def _glossary_spans(self, text: str) -> list[_Fixed]:
        if self._matcher is None or self._glossary is None:
            return []
        spans = []
        for match in self._matcher.find(text):
            if not has_kanji(match.surface):
                continue
            term = self._glossary.term(match.term_id)
            aligned = (
                align(match.surface, term.reading.replace(" ", ""), "glossary") if term.reading else None
            )
            if aligned is not None:
                spans.append(_Fixed(match.start, match.end, tuple(aligned)))
        return spans

    def annotate(self, text: str, *, use_glossary: bool = True) -> FuriganaResult:
        """Readings for ``text``; ``use_glossary=False`` measures the analyser alone."""
        fixed = sorted(
            (self._glossary_spans(text) if use_glossary else []) + _counter_spans(text),
            key=lambda f: (f.start, -(f.end - f.start)),
        )
        chosen: list[_Fixed] = []
        for f in fixed:  # glossary first at equal start (longer), never overlapping
            if not chosen or f.start >= chosen[-1].end:
                chosen.append(f)
        segments: list[Segment] = []
        pos = 0
        for f in [*chosen, _Fixed(len(text), len(text), ())]:
            if f.start > pos:
                segments.extend(self._analyse(text[pos : f.start]))
            segments.extend(f.segments)
            pos = max(pos, f.end)
        return FuriganaResult(text=text, segments=tuple(_merge_plain(segments)))

    def _analyse(self, chunk: str) -> list[Segment]:
        """Readings of ``chunk`` from the analyser, read as one run of text: Easy Japanese puts spaces
        between phrases, and the analyser reads a word after a space as the start of a sentence (間に
        after a space became ま, as in 間に合う), so the spaces are left out for it and put back. If a
        word would then span a space (今日 本 read as 今 日本), the chunk is read with its spaces."""
        joined = _SPACES.sub("", chunk)
        spans: list[tuple[int, int, Any]] = []
        position = 0
        for m in self._analyzer.tokenize(joined):
            start = _skip_spaces(chunk, position)
            position = _span_end(chunk, start, len(m.surface))
            if chunk[start:position] != m.surface:  # a word across a phrase space
                return self._analyse_plain(chunk)
            spans.append((start, position, m))
        out: list[Segment] = []
        position = 0
        for start, end, m in spans:
            if start > position:
                out.append(Segment(chunk[position:start]))
            position = end
            if has_kanji(m.surface):
                out.extend(_reading_segments(m.surface, m.reading, "analyser"))
            else:
                out.append(Segment(m.surface))
        if position < len(chunk):
            out.append(Segment(chunk[position:]))
        return out

    def _analyse_plain(self, chunk: str) -> list[Segment]:
        out: list[Segment] = []
        for m in self._analyzer.tokenize(chunk):
            if not has_kanji(m.surface):
                out.append(Segment(m.surface))
                continue
            out.extend(_reading_segments(m.surface, m.reading, "analyser"))
        return out


_SPACES = re.compile(r"[ \u3000]")


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and _SPACES.match(text[position]):
        position += 1
    return position


def _span_end(text: str, start: int, length: int) -> int:
    """The end of ``length`` non-space characters of ``text`` from ``start``."""
    position, seen = start, 0
    while position < len(text) and seen < length:
        if not _SPACES.match(text[position]):
            seen += 1
        position += 1
    return position


def _merge_plain(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if s.reading is None and out and out[-1].reading is None:
            out[-1] = Segment(out[-1].text + s.text)
        else:
            out.append(s)
    return out
