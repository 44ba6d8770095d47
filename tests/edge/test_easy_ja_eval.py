"""The Easy Japanese evaluation runs on the real data and returns its numbers."""

from __future__ import annotations

from bench.easy_ja_eval import NUMBER_CASES, load_sentences, run


def test_evaluation_set_is_large_and_complete() -> None:
    """≥ 150 sentences, each with a reference, unique ids."""
    rows = load_sentences()
    assert len(rows) >= 150
    assert all(r["ja"] and r["easy_ja_ref"] for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_evaluation_returns_the_numbers() -> None:
    """Shorter sentences, more beginner words, exact counter readings, a few unsimplified."""
    report = run()
    assert report["sentences"] >= 150
    length = report["chars_per_sentence"]
    assert length["after"] < length["before"]
    vocab = report["beginner_vocab_share_n4"]
    assert vocab["after"] > vocab["before"]
    assert set(report["jreadability"]) == {"before", "after", "reference"}
    assert report["furigana_numbers"]["cases"] == len(NUMBER_CASES)
    assert report["furigana_numbers"]["product_accuracy"] == 1.0
    glossary = report["furigana_glossary"]
    assert glossary["product_accuracy"] >= glossary["analyser_accuracy"]
    assert glossary["product_accuracy"] == 1.0
    assert 0 < report["unsimplified"] < report["sentences"] // 10
    assert report["rules_fired"]
