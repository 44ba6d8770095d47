"""Easy Japanese: each rule, furigana hard cases, escaping, glossary terms, unsimplified sentences."""

from __future__ import annotations

import pytest

from edge.easy_ja import (
    ALL_RULE_IDS,
    EasyJapanese,
    bundled_paraphrases,
    counted_reading,
    default_easy_japanese,
    pre_edit_for_mt,
)


@pytest.fixture(scope="module")
def easy() -> EasyJapanese:
    return default_easy_japanese()


def rewrite(easy: EasyJapanese, text: str) -> tuple[str, tuple[str, ...]]:
    result = easy.rewrite(text, explain_terms=False)
    return result.text, result.rules_fired


# --- honorific and humble forms → です/ます ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected", "rule"),
    [
        ("書類を書いていただけますでしょうか。", "書類を書いてください。", "honorific.request"),
        ("もう一度読んでいただけますか。", "もう一度読んでください。", "honorific.request"),
        ("こちらの書類にご記入ください。", "こちらの書類に書いてください。", "honorific.go_suru"),
        ("2階の窓口にお越しください。", "2階の窓口に来てください。", "honorific.expression"),
        ("担当はこちらでございます。", "担当はこちらです。", "honorific.gozaimasu"),
        ("少々お待ちください。", "少し待ってください。", "honorific.expression"),
        ("番号を順番にお呼びします。", "番号を順番に呼びます。", "honorific.o_verb"),
        ("明日、書類を郵送いたします。", "明日、書類を郵便で送ります。", "honorific.humble"),
        ("こちらの内容でよろしいでしょうか。", "こちらの内容でいいですか。", "honorific.question"),
        ("届きましたら、窓口に来てください。", "届いたら、窓口に来てください。", "honorific.mashitara"),
        ("クレジットカードはご利用いただけません。", "クレジットカードは使えません。", "honorific.go_suru"),
    ],
)
def test_honorific_rules_give_plain_desu_masu(
    easy: EasyJapanese, source: str, expected: str, rule: str
) -> None:
    """Honorific and humble forms become plain です/ます and the rule id is reported."""
    text, fired = rewrite(easy, source)
    assert text == expected
    assert rule in fired


def test_double_negative_becomes_request(easy: EasyJapanese) -> None:
    """〜しなければなりません → 〜してください (and the サ変 noun is paraphrased and conjugated)."""
    text, fired = rewrite(easy, "書類を提出しなければなりません。")
    assert text == "書類を出してください。"
    assert fired[:2] == ("negation.double", "lexical.paraphrase")


def test_must_in_the_past_is_not_turned_into_a_request(easy: EasyJapanese) -> None:
    """A past obligation is a statement, not a request: the double-negative rule leaves it."""
    text, fired = rewrite(easy, "昨日までに提出しなければなりませんでした。")
    assert "negation.double" not in fired
    assert "なければなりませんでした" in text


# --- paraphrases with conjugation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("申請書を提出しました。", "申請書を出しました。"),  # masu stem
        ("申請書を提出して、帰ってください。", "申請書を出してください。それから、帰ってください。"),
        ("書類を郵送した。", "書類を郵便で送った。"),  # ta form of a phrase
        ("窓口で提示すれば大丈夫です。", "窓口で見せれば大丈夫です。"),  # ba form
        ("コンビニでも住民票を取得できます。", "コンビニでも住民票をもらえます。"),  # potential
        ("本日は混雑しています。", "今日は混んでいます。"),  # noun + te form (godan ma-row: んで)
        ("所定の用紙に記入してください。", "決まった紙に書いてください。"),
    ],
)
def test_paraphrase_conjugates_like_the_original(easy: EasyJapanese, source: str, expected: str) -> None:
    """A replacement verb takes the inflection of the word it replaces."""
    assert rewrite(easy, source)[0] == expected


def test_paraphrase_dictionary_is_large_and_typed() -> None:
    """≥ 300 entries, each with a known kind."""
    d = bundled_paraphrases()
    assert len(d) >= 300
    kinds = {e.pos for e in d.entries}
    assert {"suru", "verb", "noun", "adv", "expr", "loanword"} <= kinds


def test_loanword_replaced_only_from_the_list(easy: EasyJapanese) -> None:
    """アポイント → 予約 (easier); コピー stays (already easy)."""
    text, fired = rewrite(easy, "アポイントがない人はコピーを持ってきてください。")
    assert "予約" in text and "コピー" in text
    assert "lexical.loanword" in fired


def test_person_kata_not_hou(easy: EasyJapanese) -> None:
    """方 read かた becomes 人; 〜た方がいい (ほう) stays."""
    assert (
        rewrite(easy, "カードを紛失した方は連絡してください。")[0] == "カードをなくした人は連絡してください。"
    )
    assert rewrite(easy, "早く出した方がいいです。")[0] == "早く出した方がいいです。"


# --- splitting -----------------------------------------------------------------------------------


def test_split_node_makes_two_sentences(easy: EasyJapanese) -> None:
    """〜ので、〜 → 〜ます。ですから、〜 with the first predicate made polite."""
    text, fired = rewrite(easy, "窓口が混んでいるので、少し待ってください。")
    assert text == "窓口が混んでいます。ですから、少し待ってください。"
    assert "split.node" in fired


def test_split_ga_after_a_verb_clause(easy: EasyJapanese) -> None:
    """〜ますが、〜 → 〜ます。でも、〜; a preface (すみませんが) is not split."""
    text, fired = rewrite(easy, "窓口は5時に閉まりますが、書類は郵便でも出せます。")
    assert text == "窓口は5時に閉まります。でも、書類は郵便でも出せます。"
    assert "split.ga" in fired
    assert "split.ga" not in rewrite(easy, "すみませんが、名前を書いてください。")[1]


def test_split_te_keeps_the_mood(easy: EasyJapanese) -> None:
    """〜て、〜てください → two requests."""
    text, _ = rewrite(easy, "ごみは袋に入れて、集める場所に出してください。")
    assert text == "ごみは袋に入れてください。それから、集める場所に出してください。"


def test_conditional_sentence_is_not_split(easy: EasyJapanese) -> None:
    """A condition stays with its consequence: no split rule fires."""
    _, fired = rewrite(easy, "雨が降ったら、窓口が混んでいるので、少し待ってください。")
    assert not any(r.startswith("split.") for r in fired)


# --- dates and times ------------------------------------------------------------------------------


def test_era_year_becomes_western(easy: EasyJapanese) -> None:
    """令和8年12月1日 → 2026年12月1日, 平成元年 → 1989年."""
    text, fired = rewrite(easy, "令和8年12月1日までに出してください。")
    assert text.startswith("2026年12月1日")
    assert "date.era" in fired
    assert rewrite(easy, "平成元年に生まれました。")[0].startswith("1989年")


def test_times_are_am_pm_with_digits(easy: EasyJapanese) -> None:
    """15時 → 午後3時, 9:30 → 午前9時30分, 十四時 → 午後2時, 十分 (enough) is not a time."""
    assert rewrite(easy, "15時に来てください。")[0] == "午後3時に来てください。"
    assert rewrite(easy, "9:30に来てください。")[0] == "午前9時30分に来てください。"
    assert rewrite(easy, "十月二十日の十四時に来てください。")[0] == "10月20日の午後2時に来てください。"
    assert "10分" not in rewrite(easy, "十分に気をつけてください。")[0]
    assert rewrite(easy, "受付は9時から17時までです。")[0] == "受付は午前9時から午後5時までです。"
    assert rewrite(easy, "3時に来てください。")[0] == "3時に来てください。"


# --- furigana -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("14日", "じゅうよっか"),
        ("12月1日", "じゅうにがつついたち"),
        ("20日", "はつか"),
        ("2日", "ふつか"),
        ("8日", "ようか"),
        ("1人", "ひとり"),
        ("2人", "ふたり"),
        ("4月", "しがつ"),
        ("9時", "くじ"),
        ("3階", "さんがい"),
        ("1本", "いっぽん"),
        ("3本", "さんぼん"),
        ("6分", "ろっぷん"),
        ("1日に2回", "いちにちににかい"),
        ("24日", "にじゅうよっか"),
        ("20歳", "はたち"),
        ("800円", "はっぴゃくえん"),
        ("十分に", "じゅうぶんに"),
    ],
)
def test_number_and_counter_readings(easy: EasyJapanese, text: str, reading: str) -> None:
    """Counter words read correctly (the analyser alone reads 14日 as いちよんか)."""
    assert easy.furigana(text).reading == reading


def test_counter_table_beyond_ten() -> None:
    """Sound changes apply to the last digit: 11本, 21人, 100回."""
    assert counted_reading(11, "本") == "じゅういっぽん"
    assert counted_reading(21, "人") == "にじゅういちにん"
    assert counted_reading(100, "回") == "ひゃっかい"
    assert counted_reading(1, "日", day_count=True) == "いちにち"


def test_ruby_only_over_kanji(easy: EasyJapanese) -> None:
    """Okurigana stay outside the ruby; kana-only text gets none."""
    result = easy.furigana("書いてください")
    assert result.ruby_html == "<ruby>書<rt>か</rt></ruby>いてください"
    assert result.bracketed == "書[か]いてください"
    assert "<ruby>" not in easy.furigana("ひらがなとカタカナ").ruby_html


def test_glossary_reading_overrides_the_analyser(easy: EasyJapanese) -> None:
    """避難所 is ひなんじょ in the glossary (the analyser says ひなんしょ)."""
    assert easy.furigana("避難所", use_glossary=False).reading == "ひなんしょ"
    assert easy.furigana("避難所").reading == "ひなんじょ"
    assert easy.furigana("1歳6か月児健診").reading == "いっさいろっかげつじけんしん"


def test_words_after_the_spaces_of_easy_japanese_are_read_in_context(easy: EasyJapanese) -> None:
    """Easy Japanese is written with spaces between phrases; 間に after a space is still あいだ (read alone
    it became ま, as in 間に合う), and the spaces stay in the text."""
    text = "引っ越しを したら、14日の 間に 届け出を して ください。"
    result = easy.furigana(text)
    assert "".join(segment.text for segment in result.segments) == text
    assert ("間", "あいだ") in [(segment.text, segment.reading) for segment in result.segments]
    assert result.bracketed.startswith("引[ひ]っ越[こ]しを したら、14日[じゅうよっか]の 間[あいだ]に ")


@pytest.mark.parametrize(
    ("text", "bracketed"),
    [
        ("今日 本を 買います", "今日[きょう] 本[ほん]を 買[か]います"),
        ("この 日 本当に", "この 日[ひ] 本当[ほんとう]に"),
    ],
)
def test_words_are_not_merged_across_the_spaces_of_easy_japanese(
    easy: EasyJapanese, text: str, bracketed: str
) -> None:
    """Without its spaces 今日 本 reads 今 日本, 日 本当 reads 日本 当: no word spans a phrase space."""
    result = easy.furigana(text)
    assert "".join(segment.text for segment in result.segments) == text
    assert result.bracketed == bracketed


def test_script_in_input_stays_text(easy: EasyJapanese) -> None:
    """HTML in the input is escaped in ruby_html: <script> stays text."""
    result = easy.rewrite('<script>alert("漢字")</script>を提出してください。')
    assert "<script>" not in result.ruby_html
    assert "&lt;script&gt;" in result.ruby_html
    assert "&quot;" in result.ruby_html or "&#x27;" in result.ruby_html
    assert "<ruby>漢字<rt>かんじ</rt></ruby>" in result.ruby_html


# --- glossary terms, unsimplified sentences --------------------------------------------------------


def test_glossary_term_kept_with_easy_explanation(easy: EasyJapanese) -> None:
    """The official term stays (never paraphrased) and its easy_ja follows once in brackets."""
    from glossary import bundled_glossary

    term = bundled_glossary().term("res.juminhyo_copy")
    result = easy.rewrite("住民票の写しをご提出ください。住民票の写しは2通です。")
    assert result.text.count(f"住民票の写し（{term.easy_ja}）") == 1
    assert result.text.count("住民票の写し") == 2
    assert "term.explain" in result.rules_fired
    assert [t.term_id for t in result.terms] == ["res.juminhyo_copy"]
    assert "<ruby>住民票<rt>じゅうみんひょう</rt></ruby>" in result.ruby_html


def test_kana_term_written_as_the_official_headword(easy: EasyJapanese) -> None:
    """ASR output じゅうみんひょう becomes 住民票 (what the resident sees on paper)."""
    assert easy.rewrite("じゅうみんひょうを持ってきてください。").text.startswith("住民票（")


def test_glossary_term_is_not_paraphrased(easy: EasyJapanese) -> None:
    """滞納 is a glossary term: the paraphrase dictionary does not touch it."""
    assert "滞納" in easy.rewrite("保険料の滞納があります。", explain_terms=False).text


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("職員が「明日来てください」と申しておりました。", "quoted_speech"),
        ("手続きをしないと手当が支給されないわけではありません。", "negation_scope"),
        ("書類がなければ、申請を受け付けることはできません。", "conditional_negation"),
    ],
)
def test_unsafe_sentences_stay_original_and_marked(easy: EasyJapanese, source: str, reason: str) -> None:
    """A sentence a rule could change in meaning is shown as it was, with furigana, marked."""
    result = easy.rewrite(source)
    assert result.unsimplified
    assert result.text == source
    assert result.sentences[0].reason == reason
    assert result.rules_fired == ()
    assert "<ruby>" in result.ruby_html


def test_only_the_unsafe_sentence_is_left(easy: EasyJapanese) -> None:
    """In a two-sentence text the safe one is still rewritten."""
    result = easy.rewrite("ご記入ください。書類がなければ受け付けできません。")
    assert [s.unsimplified for s in result.sentences] == [False, True]
    assert result.text.startswith("書いてください。")


def test_rule_ids_are_known(easy: EasyJapanese) -> None:
    """Every fired id is one of the documented rules."""
    result = easy.rewrite("本日中に所定の用紙にご記入のうえ、至急ご提出いただけますでしょうか。")
    assert set(result.rules_fired) <= set(ALL_RULE_IDS)
    assert result.text == "今日中に決まった紙に書いてください。それから、すぐに出してください。"


def test_phrase_book_easy_ja_is_used_as_written(easy: EasyJapanese) -> None:
    """A tapped phrase shows its hand-written easy_ja with furigana, no rules."""
    from glossary import bundled_glossary

    phrase = next(iter(bundled_glossary().phrases.values()))
    result = easy.phrase(phrase.easy_ja)
    assert result.text == phrase.easy_ja
    assert result.rules_fired == ("phrasebook",)


def test_pre_edit_for_mt_has_no_explanations(easy: EasyJapanese) -> None:
    """The text for MT is simplified but terms stay bare (glossary enforcement finds them)."""
    text = pre_edit_for_mt("住民票の写しをご提出いただけますでしょうか。", easy)
    assert text == "住民票の写しを出してください。"


def test_empty_text(easy: EasyJapanese) -> None:
    """Empty input gives an empty result."""
    result = easy.rewrite("")
    assert result.text == "" and result.sentences == () and not result.unsimplified
