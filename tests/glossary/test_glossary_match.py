"""Matching terms in clean and ASR-like text, with spans at the original offsets."""

from __future__ import annotations

import pytest

from glossary import Glossary, MatchOptions, Term, TermMatch, TermMatcher, normalize
from glossary.match import generated_forms, normalize_with_offsets


def ids(matches: list[TermMatch]) -> list[str]:
    return [m.term_id for m in matches]


def test_normalisation_folds_width_kana_and_spaces() -> None:
    """Half-width katakana, full-width Latin, katakana and spaces fold to one form."""
    assert normalize("ﾏｲﾅﾝﾊﾞｰ ｶｰﾄﾞ") == normalize("マイナンバーカード") == "まいなんばーかーど"
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("住民　票") == "住民票"
    norm, starts, ends = normalize_with_offsets("ｶﾞ住")
    assert norm == "が住" and starts == [0, 2] and ends == [2, 3]


@pytest.mark.parametrize(
    ("text", "term_id", "surface"),
    [
        ("住民票の写しをください", "res.juminhyo_copy", "住民票の写し"),
        ("住民票のうつしをください", "res.juminhyo_copy", "住民票のうつし"),
        ("じゅうみんひょうのうつしをください", "res.juminhyo_copy", "じゅうみんひょうのうつし"),
        ("住民票写しをください", "res.juminhyo_copy", "住民票写し"),
        ("じゅうみんひょうをください", "res.juminhyo", "じゅうみんひょう"),
        ("じゅう みん ひょうを", "res.juminhyo", "じゅう みん ひょう"),
        ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞはありますか", "mynum.card", "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ"),
        ("まいなんばーかーどはありますか", "mynum.card", "まいなんばーかーど"),
        ("マイナ カードは", "mynum.card", "マイナ カード"),
        ("申込書に書いて", "tax.moshikomisho", "申込書"),
        ("転入届けを出して", "res.tennyu", "転入届け"),
    ],
)
def test_clean_and_asr_forms(matcher: TermMatcher, text: str, term_id: str, surface: str) -> None:
    """Each written or ASR form is found, and its span is the original text of the term."""
    (m,) = matcher.find(text)
    assert m.term_id == term_id
    assert text[m.start : m.end] == m.surface == surface


def test_spans_map_back_after_width_and_spaces(matcher: TermMatcher) -> None:
    """Offsets are those of the original string, even after folding removed characters."""
    text = "えーと、 ﾏｲﾅﾝﾊﾞｰ ｶｰﾄﾞ と じゅうみん ひょう の うつし"
    ms = matcher.find(text)
    assert ids(ms) == ["mynum.card", "res.juminhyo_copy"]
    assert [text[m.start : m.end] for m in ms] == ["ﾏｲﾅﾝﾊﾞｰ ｶｰﾄﾞ", "じゅうみん ひょう の うつし"]


def test_overlaps_resolved_longest_first(matcher: TermMatcher) -> None:
    """住民票の写し wins over 住民票, マイナンバーカード over マイナンバー; neighbours both stay."""
    assert ids(matcher.find("住民票の写し")) == ["res.juminhyo_copy"]
    assert ids(matcher.find("マイナンバーカードとマイナンバー")) == ["mynum.card", "mynum.number"]
    assert ids(matcher.find("住民税の課税証明書")) == ["tax.juminzei", "tax.kazei_shomeisho"]


def test_longest_first_beats_leftmost() -> None:
    """When a short term starts earlier and a longer one overlaps it, the longer one is kept."""
    t = {"en": "x"}
    g = Glossary.from_items(
        [
            Term(id="res.ab", domain="res", ja="国民健", reading="こくみんけん", translations=t),
            Term(
                id="nhi.long", domain="nhi", ja="健康保険証", reading="けんこうほけんしょう", translations=t
            ),
        ]
    )
    ms = TermMatcher(g).find("国民健康保険証")
    assert ids(ms) == ["nhi.long"]
    assert (ms[0].start, ms[0].end) == (2, 7)


def test_short_kana_readings_do_not_match_inside_words(matcher: TermMatcher) -> None:
    """The reading ぜい (税) is too short to index: ぜいたく is no tax; 税 in kanji still matches."""
    assert matcher.find("ぜいたくはできません") == []
    assert ids(matcher.find("税のはなし")) == ["tax.zei"]
    loose = TermMatcher(matcher.glossary, MatchOptions(min_kana_chars=1))
    assert ids(loose.find("ぜいたく")) == ["tax.zei"]


def test_readings_can_be_disabled(small_glossary: Glossary) -> None:
    """With readings off, kana-only ASR output is not matched."""
    m = TermMatcher(small_glossary, MatchOptions(readings=False, generated=False))
    assert m.find("じゅうみんひょう") == []
    assert ids(m.find("住民票")) == ["res.juminhyo"]


def test_reviewed_only(small_glossary: Glossary) -> None:
    """A reviewed-only matcher ignores draft terms."""
    m = TermMatcher(small_glossary, MatchOptions(reviewed_only=True))
    assert ids(m.find("住民票と印鑑登録")) == ["res.inkan_toroku"]


def test_generated_forms(small_glossary: Glossary) -> None:
    """Mixed kanji/kana forms come from aligning headword and reading."""
    forms = generated_forms(small_glossary.term("res.juminhyo_copy"))
    assert {"住民票のうつし", "じゅうみんひょうの写し", "住民票写し"} <= forms


def test_no_match_and_empty_text(matcher: TermMatcher) -> None:
    """Text without terms and empty text give no match."""
    assert matcher.find("") == []
    assert matcher.find("今日はいい天気ですね") == []


def _two_terms() -> Glossary:
    t = {"en": "x"}
    return Glossary.from_items(
        [
            Term(id="waste.danboru", domain="waste", ja="段ボール", reading="だんぼーる",
                 variants=("ダンボール",), translations=t),
            Term(id="nhi.kokuho", domain="nhi", ja="国保", reading="こくほ", translations=t),
        ]
    )  # fmt: skip


def test_katakana_term_inside_a_longer_katakana_word_is_not_matched() -> None:
    """ダンボール in ダンボールドウィン is part of a name; before 箱 it is the term."""
    m = TermMatcher(_two_terms())
    assert m.find("ダンボールドウィンさん") == []
    assert ids(m.find("ダンボール箱を出す")) == ["waste.danboru"]
    assert ids(m.find("ﾀﾞﾝﾎﾞｰﾙを")) == ["waste.danboru"]


def test_two_kanji_term_inside_a_kanji_compound_is_not_matched() -> None:
    """国保 inside 中国保健 is no health insurance; 国保 on its own or at a compound's edge is."""
    m = TermMatcher(_two_terms())
    assert m.find("中国保健当局") == []
    assert ids(m.find("国保の手続き")) == ["nhi.kokuho"]
    assert ids(m.find("国保加入")) == ["nhi.kokuho"]
