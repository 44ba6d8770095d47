"""The benchmark's scoring compares like with like: one Chinese script, one spelling of long vowels."""

from __future__ import annotations

import pytest

from bench.scoring import (
    corpus_error_rate,
    error_rate,
    fold_long_vowels,
    kana_error_rate,
    normalize,
    to_simplified,
)


def test_traditional_and_simplified_chinese_score_as_the_same_text() -> None:
    reference = "请带身份证来这里办理户籍手续。"
    heard = "請帶身份證來這裡辦理戶籍手續"  # Whisper's usual traditional characters for Mandarin
    assert to_simplified(heard) == "请带身份证来这里办理户籍手续"
    assert error_rate(reference, heard, "zh") == 0.0
    assert corpus_error_rate([(reference, heard), ("提交期限是3月15日。", "提交期限是3月15日")], "zh") == 0.0
    assert normalize("這裡", keep_spaces=False, language="zh") == "这里"


def test_a_real_chinese_substitution_still_counts_in_either_script() -> None:
    reference = "请到二楼的窗口。"  # 7 characters once the full stop is dropped
    assert error_rate(reference, "請到三樓的窗口", "zh") == pytest.approx(1 / 7)
    assert error_rate(reference, "请到三楼的窗口", "zh") == pytest.approx(1 / 7)
    assert error_rate(reference, "請到樓的窗", "zh") == pytest.approx(2 / 7)


def test_chinese_numbers_score_the_same_in_digits_and_in_numerals() -> None:
    assert error_rate("请在15天以内申请。", "請在十五天以內申請", "zh") == 0.0
    assert error_rate("提交期限是3月15日。", "提交期限是三月十五日", "zh") == 0.0
    assert error_rate("3岁至5岁", "三岁至五岁", "zh") == 0.0
    assert error_rate("请到5号窗口。", "请到6号窗口", "zh") == pytest.approx(1 / 6)  # a wrong number counts
    assert error_rate("请说慢一点。", "请说慢一点", "zh") == 0.0  # words with 一 are left alone


def test_chinese_amounts_and_times_score_as_they_are_said() -> None:
    reference = "住民票副本每份300日元。"
    assert error_rate(reference, "住民票副本每份三百日元", "zh") == 0.0
    assert error_rate(reference, "住民票副本每份30日元", "zh") == pytest.approx(1 / 11)  # 三十 for 三百
    times = "窗口受理时间为上午8点30分至下午5点15分。"
    assert error_rate(times, "窗口受理时间为上午8.30分至下午5.15分", "zh") == 0.0  # Whisper's way of writing
    assert error_rate(times, "窗口受理时间为上午8:30至下午5:15", "zh") == 0.0
    # 两 is what is said before a measure word: 二 heard there is an error
    assert error_rate("每次支付2个月的金额", "每次支付两个月的金额", "zh") == 0.0
    assert error_rate("每次支付2个月的金额", "每次支付二个月的金额", "zh") == pytest.approx(1 / 10)


def test_spanish_portuguese_english_numbers_score_the_same_in_digits_and_in_words() -> None:
    assert (
        error_rate(
            "gratuita para crianças de 3 a 5 anos.", "gratuita para crianças de três a cinco anos", "pt"
        )
        == 0.0
    )
    assert error_rate("dentro de los 15 días", "dentro de los quince días", "es") == 0.0
    assert error_rate("the counter on the 2nd floor", "the counter on the second floor", "en") == 0.0
    assert error_rate("La tarifa es de 300 yenes.", "La tarifa es de 400 yenes", "es") == pytest.approx(1 / 6)
    assert error_rate("Quantos anos tem a criança?", "Quantos anos têm a criança", "pt") == pytest.approx(
        1 / 5
    )


def test_numbers_with_thousands_separators_are_read_as_one_number() -> None:
    """1,000 (English) and 1.000 (Spanish, Portuguese) are one number, not "one , zero"."""
    assert normalize("The fee is 1,000 yen.", language="en") == "the fee is one thousand yen"
    assert normalize("La tarifa es de 1.000 yenes.", language="es") == "la tarifa es de mil yenes"
    assert normalize("São 12.500 ienes.", language="pt") == normalize(
        "São doze mil e quinhentos ienes", language="pt"
    )
    assert (
        error_rate("It costs 2,400,000 yen.", "it costs two million four hundred thousand yen", "en") == 0.0
    )
    assert error_rate("1,000 yen", "2,000 yen", "en") == pytest.approx(1 / 3)  # one thousand yen: 1 of 3


def test_scripts_are_folded_only_for_chinese() -> None:
    assert normalize("這裡", keep_spaces=False, language="ja") == "這裡"
    assert error_rate("国", "國", "ja") == 1.0


def test_long_vowel_spellings_are_the_same_reading() -> None:
    assert fold_long_vowels("ジュウミンヒョウ") == fold_long_vowels("ジューミンヒョー") == "ジューミンヒョー"
    assert fold_long_vowels("センセイ") == fold_long_vowels("センセー")
    assert fold_long_vowels("トウキョウト") == "トーキョート"
    assert fold_long_vowels("オカアサン") == fold_long_vowels("オカーサン")
    assert fold_long_vowels("ユウビン") == "ユービン"
    assert fold_long_vowels("コピー") == "コピー"
    assert fold_long_vowels("シンイン") == "シンイン"  # ン has no vowel to lengthen
    assert fold_long_vowels("キッウ") == "キッウ"
    assert kana_error_rate([("ジュウミンヒョウノウツシ", "ジューミンヒョーノウツシ")]) == 0.0


def test_a_real_kana_substitution_still_counts_after_folding() -> None:
    # 書類 heard as 処理: ショルイ → ショリ is a real error (one substitution, one deletion).
    assert kana_error_rate([("ショルイヲカイテクダサイ", "ショリヲカイテクダサイ")]) == pytest.approx(2 / 12)
    # ユウビン heard as ユウメイ (有名): ユービン against ユーメー, two of four letters differ.
    assert kana_error_rate([("ユウビン", "ユウメイ")]) == pytest.approx(2 / 4)
    assert kana_error_rate([("ヒツヨウ", "キツヨウ")]) == pytest.approx(1 / 4)
