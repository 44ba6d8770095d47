"""What the term levers missed, and why: one TSV row per missed term and per false hit.

Written by ``madoguchi bench terms --misses FILE`` for one lever (the product's default,
``rescoring+correction``, unless told otherwise). Each row has the utterance, the term, the hypothesis the
lever corrected (for ``rescoring+correction`` the beam alternative it kept), that hypothesis's reading
(OpenJTalk's words split by ``|``), the term's reading, the span of the hypothesis closest in reading to
the term and its distance (half-cost voicing and length, ``edge.speech.terms``) next to the distance the
corrector allows — enough to tell "heard far from the term" from "just above the threshold" or "blocked
by a rule". A false hit (``false``) is a term found in a distractor; an ``extra`` one a term found in
another utterance that neither its expected terms nor its reference text hold (a wrong correction).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The hypothesis each lever corrected (a lever not listed corrected nothing: its own text).
SOURCE: dict[str, str] = {
    "correction": "plain",
    "rescoring+correction": "rescoring",
    "hotwords+correction": "hotwords",
    "correction+verified": "plain",
    "rescoring+correction+verified": "rescoring",
}

COLUMNS: tuple[str, ...] = (
    "what",
    "id",
    "kind",
    "term_id",
    "headword",
    "term_reading",
    "distance",
    "allowed",
    "span",
    "span_reading",
    "reference",
    "hypothesis",
    "hypothesis_reading",
    "final",
)


def _spoken(seq: Sequence[str]) -> str:
    return "".join(seq)


def _hypothesis_reading(text: str) -> str:
    from edge.speech.reading import words

    return "|".join(_spoken(w.morae) or w.surface for w in words(text))


def miss_rows(
    rows: Sequence[dict[str, Any]], lever: str, corrector: Any, matcher: Any
) -> list[dict[str, Any]]:
    """One dict per missed (utterance, term) and per term found in a distractor, for ``lever``."""
    from edge.speech.reading import morae

    glossary = matcher.glossary
    out: list[dict[str, Any]] = []
    for row in rows:
        if lever not in row:
            continue
        final = row[lever]
        hypothesis = row.get(SOURCE.get(lever, lever), final)
        found = matcher.find(final)
        expected = set(row.get("term_ids") or ())
        missed = sorted(expected - {m.term_id for m in found})
        said = expected | set(matcher.find_ids(row["text"]))
        false = [m for m in found if row["kind"] == "distractor" or m.term_id not in said]
        base = {
            "id": row["id"],
            "kind": row["kind"],
            "reference": row["text"],
            "hypothesis": hypothesis,
            "hypothesis_reading": _hypothesis_reading(hypothesis),
            "final": final,
        }
        for term_id in missed:
            term = glossary.terms[term_id]
            item = {**base, "what": "miss", "term_id": term_id, "headword": term.ja}
            item["term_reading"] = _spoken(morae(term.reading))
            item["allowed"] = corrector.options.allowed(len(morae(term.reading)))
            near = corrector.nearest(hypothesis, term_id)
            if near is not None:
                span, spoken = near
                item["distance"] = span.distance
                item["allowed"] = corrector.options.allowed(span.term_morae)
                item["span"] = hypothesis[span.start : span.end]
                item["span_reading"] = _spoken(spoken)
            out.append(item)
        for match in false:
            term = glossary.terms[match.term_id]
            what = "false" if row["kind"] == "distractor" else "extra"
            item = {**base, "what": what, "term_id": match.term_id, "headword": term.ja}
            item.update(term_reading=_spoken(morae(term.reading)), span=match.surface)
            out.append(item)
    return out


def write_misses(rows: Sequence[dict[str, Any]], lever: str, corrector: Any, matcher: Any, path: Path) -> int:
    """Write ``miss_rows`` as a TSV with a header to ``path``; returns the number of rows."""
    items = miss_rows(rows, lever, corrector, matcher)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(items)
    return len(items)
