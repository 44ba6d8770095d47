"""The spoken phrase book: readings close to a phrase serve its verified translation; others do not."""

from __future__ import annotations

import pytest

from edge.speech.phrase_match import DEFAULT_THRESHOLD, PhraseMatcher
from glossary import bundled_glossary


@pytest.fixture(scope="module")
def matcher() -> PhraseMatcher:
    return PhraseMatcher(bundled_glossary())


@pytest.mark.parametrize(
    ("heard", "phrase_id"),
    [
        ("もう一度言ってください", "clarification.say_again"),
        ("もう一度いってください。", "clarification.say_again"),  # kana for kanji: same reading
        ("保育園の入園申込はこちらです", "childcare.nursery_application_here"),  # okurigana dropped
        ("お気をつけてお帰りください", "closing.take_care_going_home"),
    ],
)
def test_a_phrase_said_is_matched(matcher: PhraseMatcher, heard: str, phrase_id: str) -> None:
    hit = matcher.match(heard)
    assert hit is not None and hit.phrase_id == phrase_id
    assert hit.similarity >= DEFAULT_THRESHOLD
    assert matcher.translation(phrase_id, "en")


@pytest.mark.parametrize(
    "heard",
    [
        "児童手当の申請は必要ありません",  # negated
        "児童手当の申請が必要ですか",  # a question, not the statement
        "住民票の写しを一通お願いします。",  # a counter sentence that is no phrase
        "はい",  # too short to match anything
        "",
    ],
)
def test_other_sentences_change_nothing(matcher: PhraseMatcher, heard: str) -> None:
    assert matcher.match(heard) is None


def test_reviewed_only_counters_match_reviewed_phrases_only() -> None:
    glossary = bundled_glossary()
    reviewed = PhraseMatcher(glossary, reviewed_only=True)
    assert len(reviewed) == sum(1 for p in glossary.phrases.values() if p.reviewed)
