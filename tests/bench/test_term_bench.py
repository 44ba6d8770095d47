"""``madoguchi bench terms``: the tune / held-out halves of the term-speech set and the table."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.term_bench import SPLITS, format_table, phrase_threshold, split_of

REPO = Path(__file__).resolve().parents[2]


def test_halves_are_fixed_by_id_and_about_even() -> None:
    ids = [f"{kind}{n:03d}" for kind in "tpd" for n in range(1, 151)]
    halves = Counter(split_of(i) for i in ids)
    assert set(halves) == set(SPLITS)
    assert abs(halves["tune"] - halves["held-out"]) < 0.15 * len(ids)
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]
    # another voice's rendering of a sentence stays in the sentence's half
    assert all(split_of(f"{i}-jf_alpha") == split_of(i) for i in ids)


def test_phrase_threshold_sits_above_every_non_phrase() -> None:
    rows = [
        {"kind": "phrase", "text": "a", "phrase_id": "p1", "phrase": ("p1", 0.99, True)},
        {"kind": "phrase", "text": "b", "phrase_id": "p2", "phrase": ("p2", 0.90, True)},
        {"kind": "term", "text": "c", "phrase_id": "", "phrase": ("p1", 0.93, True)},
    ]
    book = phrase_threshold(rows)
    assert book["threshold"] == 0.95 and book["served_verified"] == 1 and book["served_right_phrase"] == 1
    table = format_table({"split": "held-out", "utterances": {"term": 1}, "levers": [], "phrase_book": book})
    assert table.startswith("split: held-out")


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [("--split", "half", "tune, held-out"), ("--voices", "mei,siri", "mei, kokoro or mei,kokoro")],
)
def test_an_unknown_split_or_voice_is_refused_before_any_work(
    tmp_path: Path, option: str, value: str, said: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "madoguchi", "bench", "terms", option, value, "--out", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode != 0
    assert said in proc.stderr
    assert not list(tmp_path.iterdir())


def test_more_distractors_keep_the_first_ones_and_hold_no_term() -> None:
    from bench.term_speech import distractor_sentences
    from glossary import TermMatcher, bundled_glossary

    glossary = bundled_glossary()
    sentences = distractor_sentences(glossary)
    assert len(sentences) == len(set(sentences)) == 240
    assert sentences[:120] == distractor_sentences(glossary, 120)  # the older, smaller set's audio stays
    matcher = TermMatcher(glossary)
    assert not any(matcher.find(text) for text in sentences)
    assert Counter(split_of(f"d{n:03d}") for n in range(1, 241))["held-out"] >= 100
