"""``madoguchi bench terms``: the tune / held-out halves of the term-speech set and the table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.term_bench import SPLITS, TEXT_LEVERS, format_table, phrase_threshold, replayed, split_of

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
    [
        ("--split", "half", "tune, held-out"),
        ("--voices", "mei,siri", "mei, kokoro or mei,kokoro"),
        ("--misses-lever", "best", "rescoring+correction"),
    ],
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


@pytest.fixture(scope="module")
def corrector():  # type: ignore[no-untyped-def]
    from edge.speech.terms import ReadingCorrector
    from glossary import bundled_glossary

    return ReadingCorrector(bundled_glossary())


def test_a_replay_recomputes_the_text_levers_from_the_recorded_beams(corrector) -> None:  # type: ignore[no-untyped-def]
    beam = [["自動手当ての申請です", -0.30], ["児童手当ての申請です", -0.32]]
    hot = [["児童手当の申請です", -0.25]]
    row = {"_hypotheses": json.dumps(beam), "_hot_hypotheses": json.dumps(hot), "_hot_ms": 40.0}
    levers = replayed(row, corrector)
    assert set(TEXT_LEVERS) <= set(levers)
    assert levers["plain"][0] == beam[0][0]
    assert levers["correction"][0] == corrector.correct(beam[0][0]).text != beam[0][0]
    assert levers["hotwords"] == (hot[0][0], 40.0)
    assert levers["all"][1] >= 40.0
    assert json.loads(levers["_hypotheses"][0]) == beam  # a replay's rows can be replayed again
    silent = replayed({"_hypotheses": "[]"}, corrector)  # nothing heard: every lever is empty
    assert {silent[lever][0] for lever in TEXT_LEVERS} == {""}


def test_misses_list_each_missed_term_with_its_nearest_span_and_each_false_hit(  # type: ignore[no-untyped-def]
    tmp_path: Path, corrector
) -> None:
    from bench.term_misses import write_misses
    from glossary import TermMatcher, bundled_glossary

    heard = "世帯の死はどうなったですか"  # what Whisper base wrote for 世帯主はどなたですか
    rows = [
        {
            "id": "t013",
            "kind": "term",
            "text": "世帯主はどなたですか。",
            "term_ids": ["res.head_of_household"],
        },
        {"id": "d900", "kind": "distractor", "text": "自動ドアの前です。", "term_ids": []},
    ]
    rows[0] |= {"rescoring": heard, "rescoring+correction": corrector.correct(heard).text}
    rows[1] |= {"rescoring": "児童手当の前です", "rescoring+correction": "児童手当の前です"}
    path = tmp_path / "misses.tsv"
    matcher = TermMatcher(bundled_glossary())
    assert write_misses(rows, "rescoring+correction", corrector, matcher, path) == 3
    header, *lines = (line.split("\t") for line in path.read_text("utf-8").splitlines())
    by_what = {row["what"]: row for row in (dict(zip(header, line, strict=True)) for line in lines)}
    miss_row, false_row = by_what["miss"], by_what["false"]
    assert miss_row["term_id"] == "res.head_of_household"
    assert miss_row["span"] == "世帯の死" and float(miss_row["distance"]) > float(miss_row["allowed"])
    assert "|" in miss_row["hypothesis_reading"]
    # 世帯 in the hypothesis is a term the utterance did not hold: a wrong one, listed as extra
    assert by_what["extra"]["term_id"] == "res.household"
    assert false_row["term_id"] == "allow.jido_teate"
