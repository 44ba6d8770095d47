"""Kokoro Japanese says numbers with their counters as Mei does (3月 さんがつ, 15日 じゅうごにち).

misaki's romaniser spells a number on its own before the text is analysed, which left the counter after it
to be read alone: 3月 came out さん・つき and 15日 じゅうご・び (Whisper heard 15備). The numbers now reach
OpenJTalk's front end with their counters. Checked on the phonemes the model is given (no model is loaded).
"""

from __future__ import annotations

import pytest

from edge.speech.voices.kokoro_phonemes import JapanesePhonemes


@pytest.fixture(scope="module")
def phonemes() -> JapanesePhonemes:
    return JapanesePhonemes()


@pytest.mark.parametrize(
    ("text", "said", "not_said"),
    [
        ("提出期限は3月15日です。", "saŋɡaʦɨ ʥɨːɡo ɲiʨi", "saɴ ʦɨkʲi"),  # さんがつ じゅうごにち
        ("15日以内に申請してください。", "ʥɨːɡo ɲiʨi inai", "ɡo bʲi"),  # not じゅうご・び
        ("20歳から59歳までの方", "ɲiʥɨʔsai kaɾa ɡoʥɨː kʲɨː sai", "toɕi"),  # さい, not とし
        ("1.5倍です。", "iʔteɴ ɡo bai", "iʨi ɡo"),  # いってんご, not いち・ご
        ("3階の窓口", "saɴ ɡai", "saɴ kai"),  # さんがい
    ],
)
def test_a_number_is_read_with_its_counter(
    phonemes: JapanesePhonemes, text: str, said: str, not_said: str
) -> None:
    spoken = phonemes(text)
    assert said in spoken and not_said not in spoken


def test_the_counter_is_not_read_on_its_own(phonemes: JapanesePhonemes) -> None:
    said = phonemes("提出期限は3月15日です。")
    assert "ʦɨkʲi" not in said and "bʲi" not in said  # not つき, not び
    assert "saŋɡaʦɨ" in said and "ɲiʨi" in said


def test_digits_openjtalk_keeps_as_digits_are_still_spoken(phonemes: JapanesePhonemes) -> None:
    said = phonemes("0120-123-456にお電話ください。")  # OpenJTalk leaves 0 as a digit: read as ゼロ
    assert said.startswith("ʣeɾo iʨi") and "deɴβa" in said  # misaki writes わ as βa
    assert phonemes("8〜17時") == phonemes("8から17時")
