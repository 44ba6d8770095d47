"""Term correction by reading, hotwords and rescoring on the bundled glossary (real OpenJTalk readings)."""

from __future__ import annotations

import pytest

from edge.speech.reading import fold, morae, reading, words
from edge.speech.term_hints import correct_best, hotword_text, rescore
from edge.speech.terms import ReadingCorrector, TermLevers, apply, undo
from glossary import bundled_glossary


@pytest.fixture(scope="module")
def glossary():  # type: ignore[no-untyped-def]
    return bundled_glossary()


@pytest.fixture(scope="module")
def corrector(glossary) -> ReadingCorrector:  # type: ignore[no-untyped-def]
    return ReadingCorrector(glossary)


def test_readings_fold_long_vowels_like_a_dictionary() -> None:
    assert morae("じゅうみんひょう") == reading("住民票") == ("ジュ", "ウ", "ミ", "ン", "ヒョ", "ウ")
    assert reading("十民表") == reading("住民票")
    assert reading("申請") == morae("しんせい")
    assert reading("住民票の写し") == morae("じゅうみんひょうのうつし")  # の+う stays two morae


def test_folded_readings_drop_voicing_and_length_only() -> None:
    assert fold(morae("もえるごみ")) == fold(morae("モエルコミ")) == ("モ", "エ", "ル", "コ", "ミ")
    assert fold(morae("のうふしょ")) == fold(morae("ノーフショー"))
    assert fold(morae("ほいっくえん")) == fold(morae("ほいくえん"))
    assert fold(morae("せたいぬし")) != fold(morae("せたいのし"))  # another vowel is a full edit


def test_vowel_skeletons_keep_the_vowels_only() -> None:
    from edge.speech.reading_distance import vowels

    assert vowels(morae("たすぽーと")) == vowels(morae("ぱすぽーと"))  # ta/pa: the vowel kept
    assert vowels(morae("せたいのし")) != vowels(morae("せたいぬし"))  # no/nu: another vowel
    assert vowels(morae("ほいくりょう")) == vowels(morae("もいくりょ"))  # length folded first


def test_numbers_keep_the_digits_as_written() -> None:
    spoken = {w.surface: (w.start, w.end, "".join(w.morae)) for w in words("全部で900円です。14日以内")}
    assert spoken["900"] == (3, 6, "キュウヒャク")
    assert spoken["14日"] == (10, 13, "ジュウヨッカ")
    assert spoken["円"][:2] == (6, 7)


def test_short_kanji_words_also_get_their_onyomi() -> None:
    by_surface = {w.surface: w for w in words("安勝番号")}
    assert by_surface["安勝"].alternatives == (morae("あんしょう"),)
    assert not by_surface["安勝"].known  # a name: OpenJTalk's reading is a guess as well
    wind = words("大風")[0]
    assert wind.known and wind.alternatives == (morae("だいふう"),)
    assert not words("タスポート")[0].known  # a word OpenJTalk had to make up
    assert all(w.alternatives == () for w in words("ください"))


# What Whisper base wrote for synthetic counter speech (bench terms), and the term that was said.
@pytest.mark.parametrize(
    ("heard", "expected", "term_id"),
    [
        ("自動手当ての申請はこちらです。", "児童手当の申請はこちらです。", "allow.jido_teate"),
        ("十民表の写しをください", "住民票の写しをください", "res.juminhyo_copy"),
        ("10民兵の映しを一通お願いします", "住民票の写しを一通お願いします", "res.juminhyo_copy"),
        ("住民表って今日もらいますか", "住民票って今日もらいますか", "res.juminhyo"),
        ("自動不要手当は所得制限があります", "児童扶養手当は所得制限があります", "allow.jido_fuyo_teate"),
        # kanji that form no word: read by their on'yomi (テンニュウ, アンショウ), not OpenJTalk's guess
        ("引っ越してから点入届けを出してください", "引っ越してから転入届を出してください", "res.moving_in"),
        ("安勝番号を3回間違えるとロックされます", "暗証番号を3回間違えるとロックされます", "mynum.pin"),
        # a variant's reading (身分証明書 of 本人確認書類) counts too
        ("身分症名症は何かお持ちですか", "本人確認書類は何かお持ちですか", "res.id_document"),
        # a voicing or length difference counts half: short terms allow one (コミ/ゴミ, ジョウ/ジョ)
        ("燃える込みは月曜日と木曜日です", "燃えるごみは月曜日と木曜日です", "waste.moeru_gomi"),
        ("しげんこみは洗ってから出してください", "資源ごみは洗ってから出してください", "waste.shigen_gomi"),
        ("近くの避難場を確認しておいてください", "近くの避難所を確認しておいてください", "disaster.hinanjo"),
        # a term written right inside a longer term heard almost exactly is widened, not a wall
        ("国民健康保険像は世帯主が払います", "国民健康保険料は世帯主が払います", "nhi.premium"),
        ("世帯変更ととけな必要です", "世帯変更届な必要です", "res.household_change"),
        (
            "国に帰ったらだったい一時金を請求できます",
            "国に帰ったら脱退一時金を請求できます",
            "pension.lump_sum_withdrawal",
        ),
        # a space the recogniser put between the words of a term is read through
        ("自動 手当の申請です", "児童手当の申請です", "allow.jido_teate"),
        # a word OpenJTalk knows with another reading (大風 オオカゼ, 定規 ジョウギ) is also tried by its
        # on'yomi (タイフウ, テイキ) when that sounds almost exactly like the term
        ("大風が来る前に準備してください", "台風が来る前に準備してください", "disaster.taifu"),
        ("定規接種は無料です", "定期接種は無料です", "health.teiki_sesshu"),
        # from five morae on, a consonant heard wrong with its vowel kept counts half, like voicing, in a
        # span holding a word the dictionary does not know (モイク, ランボール)
        ("モイク量はご家庭の収入で変わります", "保育料はご家庭の収入で変わります", "child.hoikuryo"),
        ("ランボールは古紙の日に出してください", "段ボールは古紙の日に出してください", "waste.danboru"),
        # a long term heard as many short words (seven here) is still one span
        (
            "障害自復してが手の手続きには診断書が要ります",
            "障害児福祉手当の手続きには診断書が要ります",
            "allow.shogaiji_fukushi_teate",
        ),
    ],
)
def test_near_homophones_become_the_term(
    corrector: ReadingCorrector, heard: str, expected: str, term_id: str
) -> None:
    result = corrector.correct(heard)
    assert result.text == expected
    assert term_id in [c.term_id for c in result.corrections]
    for c in result.corrections:
        assert result.text[c.start : c.end] == c.replacement


@pytest.mark.parametrize(
    "text",
    [
        "住民票の写しを一通お願いします。本人確認書類はお持ちですか？",  # already right
        "自動ドアが開きません。",  # 自動 alone is no term
        "十人ほど並んでいます。",
        "木村さんはわたしに写真を見せてくれました。",
        "保健室はどこですか。",
        "電話番号を教えてください。",
        "在留外国人の友達はどこにありますか。",
        "すみません、自動ドアを見ませんでしたか。",
        "昨日、健康食品のことで友達と話しました。",
        # 袋の read タイノ, 体の read タイノ: one length mark short of 滞納 — a short term needs all its morae
        "ゴミ袋の色はどこにありますか。",
        "国保の経体の手続きをしてください。",
        # a right term is not widened into a longer one heard far from it
        "金塚から個人番号を覚悟に言われました",
        "出入国在留管理局の場所を教えてください",
        "こちらがゴミの収集日カレンダーです",  # 収集日 is not in ごみカレンダー: not widened
        # a particle at a span's edge is not part of a term: で学校 is no 中学校, 連絡を no 連絡帳
        "熱で学校を休むときは欠席の連絡をしてください",
        # a right term is never swapped for another one over its own span (在留期間 → 在留期限)
        "在留期間が切れる前に申請してください",
        # the words of a number keep their place (OpenJTalk spells 900 as 九 百): 全部で is no 全部支給
        "全部で900円です。",
        # a known word read by its on'yomi must then sound almost like the term: 大粒 is no 在留
        "大粒カードの件でまた来ます",
        # the start or the end of a term is a shorter word, not the term
        "日本の学校は4月に始まります",
        "会社の健康保健に入っていますか",
        # real words the dictionary knows (年金 制度) keep a consonant: 年金制度 is no ねんきんネット
        "年金制度の本がとても気になっています。",
        # nor does a consonant count half in a span that would leave a piece of a compound (範売機)
        "すみません、自動範売機を見ませんでしたか?",
        # a known word with a suffix kanji (保険 料, 教育 費) is a real compound the recogniser wrote: its
        # consonants count in full (保険料 is no 保険証, 教育費 no 養育費, 受診料 no 受診券)
        "保険料の通知が届きました。",
        "保険料を口座から払いたいです。",
        "保険料が上がりました。",
        "入場料はかかりません。",
        "入会料はかかりません。",
        "教育費の支援はありますか。",
        "受診料はいくらですか。",
        "料金表を見てください。",
        "手数料は三百円です。",
        "手数料がかかります。",
        "施設の利用料はいくらですか。",
        "利用料を払いました。",
        "交通費は出ますか。",
        "交通費の領収書をください。",
        "診察券を忘れました。",
        "診察券を出してください。",
        "時刻表はどこにありますか。",
        "バスの時刻表をください。",
        "市民課の窓口は二階です。",
        "市民課に行ってください。",
        "入学金はいつ払いますか。",
        "入学金を振り込みました。",
        "登録料は無料です。",
        "学生証を見せてください。",
        "給食費はいくらですか。",
        "医療費が高いです。",
        "申込書に記入しました。",
        "来週、申請します。",
        "病院を予約しました。",
        "手当を申請しました。",
        "予約して来てください。",
        # する after a verbal noun is grammar, never a term's end (入学し is no 入学式, 連絡し no 連絡帳);
        # the の joining two nouns never a term's first mora (の期限 is no 納期限)
        "娘が小学校に入学します。",
        "娘が小学校に入学しました。",
        "子どもが来年入学する予定です。",
        "ＬＩＮＥで連絡します。",
        "あとで連絡します。",
        "学校に連絡しました。",
        "担当から連絡させます。",
        "申請の期限は月末です。",
        "支払いの期限を確認してください。",
        # a kanji compound the dictionary knows (市民税) is a real word: only a voicing or length slip
        # in it is corrected (市民税 is no 住民税, 税の通知書 no 納税通知書)
        "市民税の申告をしました。",
        "市民税はいくらですか。",
        "県民税の申告をしました。",
        "区民税の支払いはいつですか。",
        "市民税の通知書が届きました。",
        "市民税と県民税を払います。",
    ],
)
def test_right_text_and_look_alikes_are_left_alone(corrector: ReadingCorrector, text: str) -> None:
    result = corrector.correct(text)
    assert result.text == text
    assert result.corrections == ()


def test_only_the_counters_domains_are_candidates(glossary) -> None:  # type: ignore[no-untyped-def]
    waste_only = ReadingCorrector(glossary, ["waste"])
    assert waste_only.correct("自動手当の申請です").corrections == ()
    allow = ReadingCorrector(glossary, ["allow"])
    assert allow.correct("自動手当の申請です").text == "児童手当の申請です"
    assert all(term_id.startswith("allow.") for term_id in allow.term_ids)


def test_one_tap_undo_restores_the_recognisers_words(corrector: ReadingCorrector) -> None:
    heard = "十民表と自動手当の書類"
    result = corrector.correct(heard)
    assert len(result.corrections) == 2
    second = result.corrections[1]
    back = undo(result.text, second)
    assert back == "住民票と自動手当の書類"
    with pytest.raises(ValueError):
        undo("別の文", second)


def test_hotwords_fit_whispers_context(glossary) -> None:  # type: ignore[no-untyped-def]
    text = hotword_text(glossary)
    terms = text.split("、")
    assert 10 <= len(terms) <= 25 and len(text) <= 120
    assert set(terms) <= {t.ja for t in glossary.terms.values()}
    res = hotword_text(glossary, ["res"]).split("、")
    assert {t.domain for t in glossary.terms.values() if t.ja in res} == {"res"}


def test_rescoring_prefers_a_term_within_a_small_gap_only(corrector: ReadingCorrector) -> None:
    close = [("自動ドアの申請です", -0.30), ("児童手当の申請です", -0.34)]
    assert rescore(close, corrector) == 1
    far = [("自動ドアの申請です", -0.30), ("児童手当の申請です", -0.90)]
    assert rescore(far, corrector) == 0


def test_the_kept_hypothesis_comes_corrected(corrector: ReadingCorrector) -> None:
    # the second hypothesis holds a term once corrected (十民表 → 住民票); the first holds none
    beam = [("十人の方をください", -0.30), ("十民表の写しをください", -0.33), ("十民表の写し", -0.5)]
    index, corrected = correct_best(beam, corrector)
    assert index == 1
    assert corrected.text == "住民票の写しをください"
    assert [c.term_id for c in corrected.corrections] == ["res.juminhyo_copy"]
    # the spans it replaced in the kept hypothesis come along, for verification to build on
    assert [(f.start, f.end, f.headword) for f in corrected.found] == [(0, 6, "住民票の写し")]
    assert apply(beam[index][0], corrected.found) == (corrected.text, list(corrected.corrections))
    kept = correct_best([("自動ドアの前です", -0.2)], corrector)[1]
    assert kept.corrections == () and kept.found == ()


def test_a_loose_correction_of_a_lower_hypothesis_earns_no_bonus(corrector: ReadingCorrector) -> None:
    # 健康測身 reads two edits from 健康相談: corrected in the recogniser's best, never chosen from below it
    assert corrector.correct("健康測身はどこですか").text == "健康相談はどこですか"
    beam = [("健康食品はどこですか", -0.5747), ("健康測身はどこですか", -0.5750)]
    index, corrected = correct_best(beam, corrector)
    assert index == 0 and corrected.text == "健康食品はどこですか"


def test_levers_build_per_glossary(glossary) -> None:  # type: ignore[no-untyped-def]
    corrector, matcher = TermLevers(domains=("res",)).build(glossary)
    assert corrector is not None and matcher is not None and len(matcher) > 100
    assert TermLevers(correction=False, phrases=False).build(glossary) == (None, None)
    assert TermLevers().build(None) == (None, None)
