"""bench.term_accuracy on the fixture sentences: clean and noisy recall, enforcement mechanics."""

from __future__ import annotations

import json
from pathlib import Path

from bench.term_accuracy import (
    TermSentence,
    noisy_variant,
    placeholder_copying_mt,
    read_sentences,
    run,
    to_width_noise,
)
from glossary import Glossary, TermMatcher


def test_run_on_fixture(small_glossary: Glossary, data_dir: Path, tmp_path: Path) -> None:
    """All fixture terms are found in clean and noisy text; the copying MT keeps every term."""
    result = run(
        small_glossary,
        data_dir / "term_sentences.tsv",
        translate=placeholder_copying_mt(small_glossary),
        targets=("vi", "ko"),
        out_json=tmp_path / "r.json",
    )
    assert result.sentences == 6
    assert result.clean.recall == 1.0 and result.clean.precision == 1.0
    assert result.noisy["all"].recall == 1.0 and result.noisy["all"].precision == 1.0
    assert [e.all_terms_share for e in result.enforcement] == [1.0, 1.0]
    assert json.loads((tmp_path / "r.json").read_text())["clean"]["recall"] == 1.0


def test_noise_is_deterministic_and_asr_like(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """Noisy variants repeat exactly and look like ASR output."""
    s = TermSentence("s1", "住民票の写しとマイナンバーカード", ("res.juminhyo_copy", "mynum.card"))
    ms = matcher.find(s.ja)
    assert noisy_variant(s, "kana", ms, small_glossary) == "じゅうみんひょうのうつしとまいなんばーかーど"
    assert noisy_variant(s, "spaces", ms, small_glossary) == noisy_variant(s, "spaces", ms, small_glossary)
    assert to_width_noise("カードAB1") == "ｶｰﾄﾞＡＢ１"


def test_read_sentences_allows_empty_term_ids(data_dir: Path) -> None:
    """A sentence with no glossary term is a negative example."""
    sentences = {s.id: s for s in read_sentences(data_dir / "term_sentences.tsv")}
    assert sentences["s4"].term_ids == ()
    assert sentences["s2"].term_ids == ("mynum.card", "res.tennyu")
