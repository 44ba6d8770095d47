"""Glossary term accuracy: does the matcher find the terms, also in ASR-like text, and do they survive MT?

Reads ``bench/data/term_sentences.tsv`` (``sentence_id<TAB>ja<TAB>term_ids``, header row) and reports:

- match recall and precision on the clean sentences (micro-averaged over (sentence, term id) pairs);
- the same on deterministic noisy variants that imitate ASR output: ``kana`` (each term written as its
  hiragana reading), ``width`` (half-width katakana, full-width Latin and digits), ``spaces`` (spaces
  inserted at seeded positions), ``variant`` (each term replaced by one of its variants or okurigana
  forms); ``all`` pools the four;
- microseconds per sentence of ``TermMatcher.find``;
- given ``translate(text, src, tgt) -> (text, terms_applied, terms_fallback)``, the share of sentences
  whose translation holds every approved target term, and how many needed the fallback.

    result = run()                       # or run(translate=router_translate, targets=("vi", "en"))
    print(result.to_json())
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from glossary import Glossary, TermMatcher, bundled_glossary, load_glossary
from glossary.enforce import verify
from glossary.match import TermMatch, generated_forms

_LOGGER = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_SENTENCES = DATA_DIR / "term_sentences.tsv"
NOISE_KINDS: tuple[str, ...] = ("kana", "width", "spaces", "variant")

#: (text, source, target) -> (translated text, terms applied, terms that needed the fallback)
TranslateFn = Callable[[str, str, str], tuple[str, Sequence[str], Sequence[str]]]


@dataclass(frozen=True)
class TermSentence:
    """One benchmark sentence and the glossary terms it contains."""

    id: str
    ja: str
    term_ids: tuple[str, ...]


@dataclass
class MatchScores:
    """Micro-averaged detection scores over (sentence, term id) pairs."""

    sentences: int = 0
    expected: int = 0
    found: int = 0
    true_positives: int = 0
    misses: list[str] = field(default_factory=list)
    """``sentence_id:term_id`` of terms not found (first 30)."""
    false_positives: list[str] = field(default_factory=list)
    """``sentence_id:term_id`` of terms found but not expected (first 30)."""

    @property
    def recall(self) -> float:
        """Share of expected terms found."""
        return self.true_positives / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        """Share of found terms that were expected."""
        return self.true_positives / self.found if self.found else 1.0

    def add(self, sentence_id: str, expected: Iterable[str], found: Iterable[str]) -> None:
        """Score one sentence."""
        exp, got = set(expected), set(found)
        self.sentences += 1
        self.expected += len(exp)
        self.found += len(got)
        self.true_positives += len(exp & got)
        for tid in sorted(exp - got):
            if len(self.misses) < 30:
                self.misses.append(f"{sentence_id}:{tid}")
        for tid in sorted(got - exp):
            if len(self.false_positives) < 30:
                self.false_positives.append(f"{sentence_id}:{tid}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with the ratios."""
        d = asdict(self)
        d["recall"] = round(self.recall, 4)
        d["precision"] = round(self.precision, 4)
        return d


@dataclass
class EnforcementScores:
    """How glossary terms fared through a translate function, per target language."""

    target: str
    sentences: int = 0
    all_terms_present: int = 0
    needed_fallback: int = 0
    fallback_terms: int = 0

    @property
    def all_terms_share(self) -> float:
        """Share of sentences whose translation holds every approved target term."""
        return self.all_terms_present / self.sentences if self.sentences else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form with the ratio."""
        return asdict(self) | {"all_terms_share": round(self.all_terms_share, 4)}


@dataclass
class TermAccuracyResult:
    """Everything the term accuracy benchmark measured."""

    glossary_version: str
    sentences_file: str
    sentences: int
    clean: MatchScores
    noisy: dict[str, MatchScores]
    us_per_sentence_mean: float
    us_per_sentence_p95: float
    enforcement: list[EnforcementScores] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "glossary_version": self.glossary_version,
            "sentences_file": self.sentences_file,
            "sentences": self.sentences,
            "clean": self.clean.to_dict(),
            "noisy": {k: v.to_dict() for k, v in self.noisy.items()},
            "us_per_sentence_mean": round(self.us_per_sentence_mean, 1),
            "us_per_sentence_p95": round(self.us_per_sentence_p95, 1),
            "enforcement": [e.to_dict() for e in self.enforcement],
        }

    def to_json(self) -> str:
        """Pretty JSON of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def read_sentences(path: Path) -> list[TermSentence]:
    """Parse ``term_sentences.tsv`` (header row; empty term_ids allowed for negative sentences)."""
    out: list[TermSentence] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            _LOGGER.warning("%s:%d: expected sentence_id<TAB>ja<TAB>term_ids; skipped", path, line_no)
            continue
        ids = tuple(t.strip() for t in (cells[2] if len(cells) > 2 else "").split("|") if t.strip())
        out.append(TermSentence(cells[0].strip(), cells[1].strip(), ids))
    return out


def default_sentence_files() -> list[Path]:
    """``bench/data/term_sentences.tsv``, or every ``term_sentences*.tsv`` part when it is absent."""
    if DEFAULT_SENTENCES.exists():
        return [DEFAULT_SENTENCES]
    parts = sorted(DATA_DIR.glob("term_sentences*.tsv"))
    if not parts:
        raise FileNotFoundError(f"no {DEFAULT_SENTENCES.name} in {DATA_DIR}")
    return parts


# --- deterministic ASR-like noise -------------------------------------------------------------

_HALF_KANA: dict[str, str] = {}
for _code in range(0xFF61, 0xFFA0):
    _full = unicodedata.normalize("NFKC", chr(_code))
    if len(_full) == 1:
        _HALF_KANA.setdefault(_full, chr(_code))
_HALF_KANA["\u3099"] = "\uff9e"
_HALF_KANA["\u309a"] = "\uff9f"


def to_width_noise(text: str) -> str:
    """Half-width katakana, full-width ASCII letters and digits (what some IMEs and ASR emit)."""
    out = []
    for ch in text:
        if "!" <= ch <= "~" and ch.isalnum():
            out.append(chr(ord(ch) + 0xFEE0))
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        if all(c in _HALF_KANA for c in decomposed) and "\u30a1" <= decomposed[0] <= "\u30fc":
            out.append("".join(_HALF_KANA[c] for c in decomposed))
        else:
            out.append(ch)
    return "".join(out)


def _rng(sentence_id: str, kind: str) -> Random:
    return Random(zlib.crc32(f"{sentence_id}/{kind}".encode()))


def insert_spaces(text: str, rng: Random, every_chars: int = 4) -> str:
    """Insert a space at about one position in ``every_chars`` (seeded)."""
    out = []
    for i, ch in enumerate(text):
        if i and rng.random() < 1.0 / every_chars:
            out.append(" ")
        out.append(ch)
    return "".join(out)


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, repl in sorted(spans, reverse=True):
        text = text[:start] + repl + text[end:]
    return text


def noisy_variant(sentence: TermSentence, kind: str, matches: list[TermMatch], glossary: Glossary) -> str:
    """The sentence as an ASR engine might have written it (deterministic per sentence and kind)."""
    rng = _rng(sentence.id, kind)
    expected = [m for m in matches if m.term_id in sentence.term_ids and m.term_id in glossary.terms]
    if kind == "kana":
        return _replace_spans(
            sentence.ja, [(m.start, m.end, glossary.terms[m.term_id].reading) for m in expected]
        )
    if kind == "width":
        return to_width_noise(sentence.ja)
    if kind == "spaces":
        return insert_spaces(sentence.ja, rng)
    if kind == "variant":
        spans = []
        for m in expected:
            term = glossary.terms[m.term_id]
            forms = sorted(set(term.variants) | generated_forms(term))
            forms = [f for f in forms if f != m.surface]
            if forms:
                spans.append((m.start, m.end, rng.choice(forms)))
        return _replace_spans(sentence.ja, spans)
    raise ValueError(f"unknown noise kind {kind!r}; use one of {', '.join(NOISE_KINDS)}")


# --- the benchmark ----------------------------------------------------------------------------


def _time_matcher(matcher: TermMatcher, texts: list[str], rounds: int = 7) -> tuple[float, float]:
    """Mean and p95 over sentences of the per-sentence median time of ``find`` (µs).

    The median of several rounds per sentence keeps a busy neighbour process out of the figure.
    """
    per_sentence: list[float] = []
    for text in texts:
        matcher.find(text)  # warm caches
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            matcher.find(text)
            samples.append((time.perf_counter() - t0) * 1e6)
        per_sentence.append(statistics.median(samples))
    if not per_sentence:
        return 0.0, 0.0
    per_sentence.sort()
    p95 = per_sentence[min(len(per_sentence) - 1, int(0.95 * len(per_sentence)))]
    return statistics.fmean(per_sentence), p95


def run(
    glossary: Glossary | str | Path | None = None,
    sentences_path: str | Path | None = None,
    translate: TranslateFn | None = None,
    targets: Sequence[str] = ("vi",),
    out_json: str | Path | None = None,
) -> TermAccuracyResult:
    """Run the term accuracy benchmark.

    Args:
        glossary: a Glossary or a path to one (default: the bundled glossary).
        sentences_path: the TSV of sentences (default: :func:`default_sentence_files`).
        translate: optional MT function; when given, enforcement is measured for each of ``targets``.
        targets: target languages for the enforcement part.
        out_json: also write the result as JSON to this path.
    """
    g = _resolve_glossary(glossary)
    paths = [Path(sentences_path)] if sentences_path else default_sentence_files()
    sentences = [s for p in paths for s in read_sentences(p)]
    path = paths[0] if len(paths) == 1 else DATA_DIR
    matcher = TermMatcher(g)
    clean, noisy = _match_scores(matcher, sentences, g)
    mean_us, p95_us = _time_matcher(matcher, [s.ja for s in sentences])
    enforcement = (
        [_enforcement(translate, tgt, sentences, g) for tgt in targets] if translate is not None else []
    )
    result = TermAccuracyResult(
        glossary_version=g.version,
        sentences_file=str(path),
        sentences=len(sentences),
        clean=clean,
        noisy=noisy,
        us_per_sentence_mean=mean_us,
        us_per_sentence_p95=p95_us,
        enforcement=enforcement,
    )
    if out_json:
        Path(out_json).write_text(result.to_json() + "\n", encoding="utf-8")
    return result


def _resolve_glossary(glossary: Glossary | str | Path | None) -> Glossary:
    """The given glossary, the one at a path, or the bundled one."""
    if glossary is None:
        return bundled_glossary()
    if isinstance(glossary, Glossary):
        return glossary
    return load_glossary(glossary)


def _match_scores(
    matcher: TermMatcher, sentences: Sequence[TermSentence], glossary: Glossary
) -> tuple[MatchScores, dict[str, MatchScores]]:
    """Detection scores on the clean sentences and on each kind of ASR-like noise (``all`` pools them)."""
    clean = MatchScores()
    noisy = {kind: MatchScores() for kind in (*NOISE_KINDS, "all")}
    for s in sentences:
        matches = matcher.find(s.ja)
        clean.add(s.id, s.term_ids, (m.term_id for m in matches))
        for kind in NOISE_KINDS:
            text = noisy_variant(s, kind, matches, glossary)
            found = matcher.find_ids(text)
            noisy[kind].add(s.id, s.term_ids, found)
            noisy["all"].add(f"{s.id}/{kind}", s.term_ids, found)
    return clean, noisy


def _enforcement(
    translate: TranslateFn, target: str, sentences: Sequence[TermSentence], glossary: Glossary
) -> EnforcementScores:
    """How the glossary terms of ``sentences`` fared through ``translate`` into ``target``."""
    scores = EnforcementScores(target)
    for s in sentences:
        ids = [t for t in s.term_ids if t in glossary.terms]
        if not ids:
            continue
        text, _applied, fallback = translate(s.ja, "ja", target)
        scores.sentences += 1
        if not verify(text, ids, glossary, target):
            scores.all_terms_present += 1
        if fallback:
            scores.needed_fallback += 1
            scores.fallback_terms += len(fallback)
    return scores


def placeholder_copying_mt(glossary: Glossary) -> TranslateFn:
    """A stand-in MT that copies placeholders (tests the protect/restore mechanics, not a model)."""
    from glossary.enforce import protect, restore

    matcher = TermMatcher(glossary)

    def translate(text: str, src: str, tgt: str) -> tuple[str, Sequence[str], Sequence[str]]:
        p = protect(text, matcher.find(text))
        e = restore(p.text, p, glossary, tgt)
        return e.text, e.applied, e.fallback

    return translate
