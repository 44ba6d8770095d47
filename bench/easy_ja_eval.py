"""Evaluation of Easy Japanese: sentence length, beginner vocabulary, readability, furigana accuracy.

``run()`` rewrites the counter sentences of ``bench/data/easy_ja_sentences.tsv`` (each with a
hand-written Easy Japanese reference) and reports, before / after / reference:

- mean sentence length (characters per sentence, sentences split at 。！？);
- the share of content words in the beginner vocabulary list (JLPT N5–N4, and N5–N3), glossary
  terms left out (they stay official on purpose);
- the jreadability score (Lee & Hasebe's formula; higher is easier: about 0.5 upper-advanced …
  6.5 lower-elementary);

and the furigana reading accuracy on the glossary headwords (analyser alone vs with the glossary
override, i.e. the product) and on number + counter cases (analyser alone vs the counter table),
plus how many sentences were left unsimplified and which rules fired.

Run: ``python -m bench.easy_ja_eval [--json]``.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

DATA_PATH: Final = Path(__file__).parent / "data" / "easy_ja_sentences.tsv"

#: Number + counter cases: (text, its full reading). The hard ones of the issue and then some.
NUMBER_CASES: Final[tuple[tuple[str, str], ...]] = (
    ("14日", "じゅうよっか"),
    ("12月1日", "じゅうにがつついたち"),
    ("20日", "はつか"),
    ("2日", "ふつか"),
    ("8日", "ようか"),
    ("1人", "ひとり"),
    ("2人", "ふたり"),
    ("4月", "しがつ"),
    ("9時", "くじ"),
    ("3階", "さんがい"),
    ("1本", "いっぽん"),
    ("3本", "さんぼん"),
    ("6分", "ろっぷん"),
    ("4日", "よっか"),
    ("24日", "にじゅうよっか"),
    ("10日", "とおか"),
    ("7時", "しちじ"),
    ("9月", "くがつ"),
    ("7月", "しちがつ"),
    ("4人", "よにん"),
    ("10分", "じゅっぷん"),
    ("30分", "さんじゅっぷん"),
    ("8本", "はっぽん"),
    ("6か月", "ろっかげつ"),
    ("1回", "いっかい"),
    ("20歳", "はたち"),
    ("300円", "さんびゃくえん"),
    ("800円", "はっぴゃくえん"),
    ("3000円", "さんぜんえん"),
    ("2026年", "にせんにじゅうろくねん"),
    ("1日に2回", "いちにちににかい"),
    ("十四日", "じゅうよっか"),
    ("二十日", "はつか"),
    ("十分に", "じゅうぶんに"),
    ("一番", "いちばん"),
)


def load_sentences(path: Path = DATA_PATH) -> list[dict[str, str]]:
    """Rows ``id, ja, easy_ja_ref`` of the evaluation set."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _sentence_lengths(texts: list[str]) -> float:
    chars = sentences = 0
    for t in texts:
        parts = [p for p in re.split(r"[。！？!?]+", t) if p.strip()]
        sentences += len(parts)
        chars += sum(len(p) for p in parts)
    return chars / sentences if sentences else 0.0


def _mask_terms(text: str, matcher: Any) -> str:
    out, pos = [], 0
    for m in matcher.find(text):
        out.append(text[pos : m.start])
        out.append("・")
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


@functools.cache
def _tagger() -> Any:
    """One fugashi tagger per process: jreadability would load the dictionary again for every text,
    and fugashi never frees a copy (about 12 MB each)."""
    from fugashi import Tagger

    return Tagger()


def _readability(texts: list[str]) -> float:
    from jreadability import compute_readability

    return statistics.fmean(compute_readability(t, _tagger()) for t in texts)


def furigana_accuracy(easy: Any, glossary: Any) -> dict[str, Any]:
    """Reading accuracy on the glossary headwords, analyser alone and with the glossary override.

    Headwords with Latin letters (PTA) are left out: furigana go over kanji only.
    """
    from glossary.kana import to_hiragana

    def norm(reading: str) -> str:
        return to_hiragana(reading).replace(" ", "").replace("・", "").replace("\u3000", "")

    total = analyser_ok = product_ok = 0
    misses: list[str] = []
    for term in glossary.terms.values():
        if re.search(r"[A-Za-z]", term.ja):
            continue  # PTA, 申請書ID: Latin letters get no furigana
        want = norm(term.reading)
        total += 1
        if norm(easy.furigana(term.ja, use_glossary=False).reading) == want:
            analyser_ok += 1
        elif len(misses) < 20:
            misses.append(term.ja)
        if norm(easy.furigana(term.ja).reading) == want:
            product_ok += 1
    return {
        "headwords": total,
        "analyser_accuracy": analyser_ok / total,
        "product_accuracy": product_ok / total,
        "analyser_misses": misses,
    }


def number_accuracy(easy: Any) -> dict[str, Any]:
    """Reading accuracy on :data:`NUMBER_CASES`: the raw analyser vs the product (counter table)."""
    from glossary.kana import to_hiragana

    raw_ok = product_ok = 0
    misses = []
    for text, want in NUMBER_CASES:
        raw = "".join(to_hiragana(m.reading) for m in easy.analyzer.tokenize(text))
        raw_ok += raw == want
        got = easy.furigana(text, use_glossary=False).reading
        if got == want:
            product_ok += 1
        else:
            misses.append(f"{text}: {got} (want {want})")
    n = len(NUMBER_CASES)
    return {"cases": n, "analyser_accuracy": raw_ok / n, "product_accuracy": product_ok / n, "misses": misses}


@dataclass
class _Rewrites:
    """The evaluation set rewritten: texts, which rules fired, what stayed unsimplified, and the time."""

    after: list[str] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    unsimplified: int = 0
    changed: int = 0
    elapsed_ms: float = 0.0


def _rewrite_all(easy: Any, texts: list[str]) -> _Rewrites:
    """Rewrite every text (no term explanations), timing the whole pass."""
    out = _Rewrites()
    started = time.perf_counter()
    for text in texts:
        result = easy.rewrite(text, explain_terms=False)
        out.after.append(result.text)
        out.fired.update(result.rules_fired)
        if result.unsimplified:
            out.unsimplified += 1
            out.reasons.update(s.reason for s in result.sentences if s.reason)
        out.changed += result.text != text
    out.elapsed_ms = (time.perf_counter() - started) * 1000
    return out


def run(path: Path = DATA_PATH) -> dict[str, Any]:
    """Rewrite the evaluation set and measure it (see the module docstring). JSON-able."""
    from edge.easy_ja import bundled_vocabulary, default_easy_japanese
    from glossary import TermMatcher, bundled_glossary

    easy = default_easy_japanese()
    glossary = bundled_glossary()
    matcher = TermMatcher(glossary)
    vocab = bundled_vocabulary()
    rows = load_sentences(path)
    before = [r["ja"] for r in rows]
    refs = [r["easy_ja_ref"] for r in rows]
    rewrites = _rewrite_all(easy, before)
    after = rewrites.after
    shown = [easy.rewrite(text).text for text in before]

    def vocab_share(texts: list[str], level: str) -> float:
        hits = total = 0
        for t in texts:
            share = vocab.share(easy.analyzer, _mask_terms(t, matcher), level)
            hits += share.in_list
            total += share.content_words
        return hits / total if total else 1.0

    def compared(measure: Any) -> dict[str, float]:
        return {"before": measure(before), "after": measure(after), "reference": measure(refs)}

    return {
        "sentences": len(rows),
        "changed": rewrites.changed,
        "unsimplified": rewrites.unsimplified,
        "unsimplified_reasons": dict(rewrites.reasons),
        "chars_per_sentence": {
            "before": _sentence_lengths(before),
            "after": _sentence_lengths(after),
            "after_with_term_explanations": _sentence_lengths(shown),
            "reference": _sentence_lengths(refs),
        },
        "beginner_vocab_share_n4": compared(lambda texts: vocab_share(texts, "N4")),
        "beginner_vocab_share_n3": compared(lambda texts: vocab_share(texts, "N3")),
        "jreadability": compared(_readability),
        "furigana_glossary": furigana_accuracy(easy, glossary),
        "furigana_numbers": number_accuracy(easy),
        "rules_fired": dict(rewrites.fired.most_common()),
        "rewrite_ms_per_sentence": rewrites.elapsed_ms / max(1, len(rows)),
    }


def main() -> None:
    """Print the report (``--json`` for JSON)."""
    report = run()
    if "--json" in sys.argv[1:]:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return
    lines = [
        f"sentences: {report['sentences']} (changed {report['changed']}, "
        f"unsimplified {report['unsimplified']})",
    ]
    for key in ("chars_per_sentence", "beginner_vocab_share_n4", "beginner_vocab_share_n3", "jreadability"):
        vals = report[key]
        lines.append(f"{key}: " + ", ".join(f"{k} {v:.3f}" for k, v in vals.items()))
    fg, fn = report["furigana_glossary"], report["furigana_numbers"]
    lines.append(
        f"furigana glossary headwords ({fg['headwords']}): analyser {fg['analyser_accuracy']:.3f}, "
        f"product {fg['product_accuracy']:.3f}"
    )
    lines.append(
        f"furigana numbers ({fn['cases']}): analyser {fn['analyser_accuracy']:.3f}, "
        f"product {fn['product_accuracy']:.3f}"
    )
    lines.append(f"rules: {report['rules_fired']}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
