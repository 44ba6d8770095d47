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
