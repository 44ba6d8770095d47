"""Repetition loops are found in text and token sequences; ordinary speech is left alone."""

from __future__ import annotations

import pytest

from edge.speech.repetition import find_repetition, find_token_repetition

LOOPS = [
    "Don't worry about it. Don't worry about it. Don't worry about it.",
    "Do you listen to Japanese? Do you listen to Japanese?",
    "Do you listen to Japanese? Do you listen to Japanese? Do you listen to",
    "There are a lot of children, and there are a lot of children",
    "the ship of the ship's ship",
    "スタッフのスタッフのスタッフのスタッフのスタ",
    "スタッフのセーブルに入れます。 スタッフのセーブルに入れます。",
    "ありがとうございます。ありがとうございます。ありがとうございます。",
    "住民票の写しを住民票の写しを住民票の写しを",
    "申請書を出してください、申請書を出してください",
    "我不知道我不知道我不知道",
    "This machine will understand the Japanese language and the language of the Japanese language.",
    "If you don't know the difference between the color and the color of the hair color,",
]

SPEECH = [
    "This is a test sentence. Can this machine recognise Japanese properly?",
    "Please fill in this form and bring your residence card next time.",
    "I moved to this city last month, and I need a certificate of residence.",
    "The tax office is on the second floor of the building, next to the pension office.",
    "No, no, I have it here.",
    "Thank you very very much.",
    "これはテスト文です。この機械が日本語をちゃんと聞き取れているかどうかを計ります。",
    "住民票の写しを一通お願いします。本人確認書類はお持ちですか？",
    "児童手当の申請には、マイナンバーカードと通帳が必要です。",
    "はい、はい、わかりました。",
    "木村さんはわたしに写真を見せてくれました。",
    "一二三四五六七八九十。",
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
    "The tax office is next to the pension office and the welfare office.",
    "I need a copy of the residence certificate and a copy of the tax certificate.",
    "",
]


@pytest.mark.parametrize("text", LOOPS)
def test_loops_are_found(text: str) -> None:
    found = find_repetition(text)
    assert found is not None, text
    assert found.copies >= 2


@pytest.mark.parametrize("text", SPEECH)
def test_ordinary_speech_is_no_loop(text: str) -> None:
    assert find_repetition(text) is None


def test_the_repeated_unit_is_reported() -> None:
    found = find_repetition("Don't worry about it. Don't worry about it. Don't worry about it.")
    assert found is not None
    assert (found.kind, found.unit, found.copies) == ("tandem", "don't worry about it", 3)
    dominant = find_repetition("the ship of the ship's ship")
    assert dominant is not None and (dominant.kind, dominant.unit) == ("dominant", "ship")


def test_token_loops() -> None:
    assert find_token_repetition([5, 6, 7, 8, 9, 10, 11, 12, 13]) is None
    loop = find_token_repetition([1, 2, 50, 51, 52, 50, 51, 52, 50, 51, 52, 50])
    assert loop is not None and loop.unit == "50 51 52" and loop.copies == 3
    assert find_token_repetition([1, 2, 1, 2]) is None  # too short a span to be a loop
