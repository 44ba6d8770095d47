"""The real-MT bench: its sentence set and its counts on the real en↔pt-BR packs."""

from __future__ import annotations

import pytest

from bench.mt_eval import build_cases, evaluate_direction, markdown
from edge.translate.router import MtRouter
from glossary import bundled_glossary
from glossary.match_translated import TranslatedTermMatcher
from tests.shared_data import real_mt_store


@pytest.mark.parametrize(("source", "target"), [("en", "pt"), ("pt", "en")])
def test_at_least_200_sentences_each_with_a_term(source: str, target: str) -> None:
    glossary = bundled_glossary()
    cases = build_cases(glossary, source, target)
    matcher = TranslatedTermMatcher(glossary, source)
    assert len(cases) >= 200
    assert all(matcher.find(case.source) for case in cases)
    assert any(c.origin.startswith("phrase:") for c in cases) and any(
        c.origin.startswith("term:") for c in cases
    )


@pytest.mark.slow
def test_enforcement_counts_on_the_real_model() -> None:
    glossary = bundled_glossary()
    router = MtRouter(real_mt_store(), glossary=glossary)
    report = evaluate_direction(router, glossary, "en", "pt", limit=24)
    assert report.sentences == 24 and report.placeholders >= 24
    assert 0 <= report.survived <= report.placeholders
    assert report.rendered_enforced >= report.rendered_plain
    assert report.packs == ["bergamot-en-pt"] and report.latency_ms_median > 0
    assert report.chrf_phrasebook is not None and 0 < report.chrf_phrasebook <= 100
    row = markdown({"directions": [report.to_dict()]})
    assert "| en→pt | bergamot-en-pt | 24 |" in row
    assert router.enforce is True  # the bench leaves the router as it found it
