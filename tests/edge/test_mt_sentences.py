"""Sentence splitting (pysbd plus our rules where it fails) for the MT input."""

from __future__ import annotations

import pytest

from edge.translate.sentences import split_long, split_sentences


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("「住民票をください。」と言いました。次の方どうぞ。", "ja",
         ["「住民票をください。」と言いました。", "次の方どうぞ。"]),
        ("彼は『はい。』と答えた。こちらへどうぞ！", "ja", ["彼は『はい。』と答えた。", "こちらへどうぞ！"]),
        ("Mr. Tanaka is here. Bring your ID, e.g. a passport. Thanks!", "en",
         ["Mr. Tanaka is here.", "Bring your ID, e.g. a passport.", "Thanks!"]),
        ("El Sr. García está aquí. Traiga su DNI, p. ej. un pasaporte.", "es",
         ["El Sr. García está aquí.", "Traiga su DNI, p. ej. un pasaporte."]),
        ("O Sr. Silva chegou. Traga um documento, ex. o passaporte.", "pt",
         ["O Sr. Silva chegou.", "Traga um documento, ex. o passaporte."]),
        ("नमस्ते। तपाईंलाई के चाहिन्छ?", "ne", ["नमस्ते।", "तपाईंलाई के चाहिन्छ?"]),
        ("请填写表格。谢谢！", "zh", ["请填写表格。", "谢谢！"]),
    ],
)  # fmt: skip
def test_sentences(text: str, language: str, expected: list[str]) -> None:
    assert split_sentences(text, language) == expected


def test_closing_bracket_never_starts_a_sentence() -> None:
    for sentence in split_sentences("「はい。」「いいえ。」（本人確認書類が必要です。）次へ。", "ja"):
        assert not sentence.startswith(("」", "』", "）"))


def test_split_long_cuts_at_clause_boundaries_only_when_needed() -> None:
    text = "住民票の写しは、本人確認書類が必要で、手数料は300円で、窓口は二階です。"
    assert split_long(text, lambda t: False) == [text]
    pieces = split_long(text, lambda t: len(t) > 15)
    assert pieces == ["住民票の写しは、", "本人確認書類が必要で、", "手数料は300円で、", "窓口は二階です。"]
    latin = split_long("one two three four five six", lambda t: len(t.split()) > 2)
    assert all(len(p.split()) <= 2 for p in latin) and " ".join(latin) == "one two three four five six"
