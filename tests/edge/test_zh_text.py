"""Mandarin numbers are written as they are said before the voice reads them (and before the benchmark
compares): by what each number is, with misaki's PaddleSpeech verbalisers."""

from __future__ import annotations

import pytest

from edge.speech.voices.zh_text import spoken_numbers


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("手续费是300日元。", "手续费是三百日元。"),  # cn2an's transform: 三零日元
        ("一共1,000日元。", "一共一千日元。"),
        ("一共１２００日元。", "一共一千二百日元。"),  # full-width digits
        ("请在15天以内申请。", "请在十五天以内申请。"),
        ("提交期限是3月15日。", "提交期限是三月十五日。"),
        ("2026年3月15日", "二零二六年三月十五日"),
        ("2026/3/15", "二零二六年三月十五日"),
        ("医疗费的个人负担比例为30%。", "医疗费的个人负担比例为百分之三十。"),
        ("比例为１０％", "比例为百分之十"),
        ("20-59岁的人", "二十到五十九岁的人"),
        ("1.5公里", "一点五公里"),
        ("10-30%", "百分之十到百分之三十"),  # a range of percentages, both said as percentages
        ("10%~30%", "百分之十到百分之三十"),
        ("2026-2027年", "二零二六到二零二七年"),  # two years, both digit by digit
        ("2026年-2027年", "二零二六年到二零二七年"),
        ("100-1000日元", "一百到一千日元"),  # an amount follows: a range, not a postal code
        ("v2.0", "v二点零"),  # a decimal keeps its written digits
        ("利率2.50%", "利率百分之二点五零"),
        ("版本1.2.3", "版本一点二点三"),
        ("费用为500-1000。", "费用为五百到一千。"),  # no postal code without 〒/邮编 or a leading zero
        ("邮寄费500-1000。", "邮寄费五百到一千。"),
        ("1234567", "一百二十三万四千五百六十七"),
        ("2026年4月1日-4月30日", "二零二六年四月一日至四月三十日"),  # dates: "from ... to ..."
        ("4月1日~30日", "四月一日至三十日"),
        ("2026/4/1-2026/4/30", "二零二六年四月一日至二零二六年四月三十日"),
        ("3/15-3/20", "三月十五日至三月二十日"),
        ("3—5天", "三到五天"),  # long dashes between digits are ranges
        ("3ー5天", "三到五天"),
        ("3～5天", "三到五天"),
        ("3〜5天", "三到五天"),
        ("8:30—17:15", "八点三十分至十七点十五分"),
        ("4-5月", "四到五月"),
    ],
)
def test_amounts_dates_and_percentages_are_read_as_numbers(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("每次支付2个月的金额", "每次支付两个月的金额"),
        ("一年分2次缴纳", "一年分两次缴纳"),
        ("第2个窗口", "第二个窗口"),  # an ordinal
        ("请到2楼的窗口。", "请到二楼的窗口。"),
        ("2月", "二月"),
        ("2号窗口", "二号窗口"),
        ("小学2年级", "小学二年级"),
        ("12个月", "十二个月"),
        ("结果需要2-3周", "结果需要两到三周"),  # also inside a range
        ("需要1-2个工作日", "需要一到两个工作日"),
        ("大约2到3周", "大约两到三周"),
        ("2~3次", "两到三次"),
        ("减少2成", "减少两成"),
        ("第2-3页", "第二到三页"),
        ("100-200日元", "一百到二百日元"),
    ],
)
def test_two_before_a_measure_word_is_liang(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("一共2,000日元。", "一共两千日元。"),  # cn2an and num2str: 二千
        ("2000-3000日元", "两千到三千日元"),
        ("奖金为20000日元", "奖金为两万日元"),
        ("22000人", "两万二千人"),
        ("200000000", "两亿"),
        ("2000.5", "两千点五"),
        ("200日元", "二百日元"),  # only before 千, 万, 亿
        ("12000日元", "一万二千日元"),  # only the leading digit
        ("2.5万", "二点五万"),
    ],
)
def test_a_leading_two_before_thousand_is_liang(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("受理时间为8:30至17:15。", "受理时间为八点三十分至十七点十五分。"),
        ("8:30-17:15", "八点三十分至十七点十五分"),
        ("８：０５开始", "八点零五分开始"),
        ("下午2:00", "下午两点"),
        ("上午8.30分至下午5.15分", "上午八点三十分至下午五点十五分"),  # how Whisper may write a time
        ("上午8点30分", "上午八点三十分"),
        ("10:05", "十点零五分"),
        ("10:00", "十点"),
        ("10:00:05", "十点零分五秒"),  # the minutes are said when seconds follow
        ("8:30:05", "八点三十分零五秒"),
        ("10:05:00", "十点零五分"),
    ],
)
def test_clock_times_are_read_as_times(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("提交期限是3/15。", "提交期限是三月十五日。"),
        ("12/31", "十二月三十一日"),
        ("10/1起", "十月一日起"),
        ("3/2", "三月二日"),
    ],
)
def test_a_month_and_day_are_read_as_a_date(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize("text", ["13/5", "3/32", "0/5", "1/2", "2/3"])
def test_what_is_no_month_and_day_or_may_be_a_fraction_is_not_a_date(text: str) -> None:
    assert "月" not in spoken_numbers(text)


def test_a_proper_fraction_with_a_one_digit_denominator_is_read_as_a_fraction() -> None:
    assert spoken_numbers("1/2") == "二分之一"
    assert spoken_numbers("约2/3的人") == "约三分之二的人"


def test_a_share_of_something_is_a_fraction() -> None:
    assert spoken_numbers("1/10的费用由本人负担") == "十分之一的费用由本人负担"
    assert spoken_numbers("3/10的金额") == "十分之三的金额"
    assert spoken_numbers("3/15的费用") == "三月十五日的费用"  # no round share: a date
    assert spoken_numbers("1/10起") == "一月十日起"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("中央区1-2-3", "中央区一杠二杠三"),  # a block/lot chain, not a range
        ("本町1-2-3号", "本町一杠二杠三号"),
        ("本町12-3-45", "本町十二杠三杠四十五"),
        ("中央区1丁目2番3号", "中央区一丁目二番三号"),
        ("足立区千住3丁目2-5", "足立区千住三丁目二杠五"),  # block and lot after 丁目
        ("地址是千住2-5。", "地址是千住二杠五。"),  # after a place name
        ("千住2-5号", "千住二杠五号"),
        ("1-1", "一杠一"),  # the same number twice is no range
        ("年龄为20-59岁", "年龄为二十到五十九岁"),  # after 为 and before a measure word: a range
        ("需要3-5天", "需要三到五天"),
        ("价格500-1000", "价格五百到一千"),
        ("年龄20-59", "年龄二十到五十九"),
    ],
)
def test_a_japanese_address_chain_is_not_a_range(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("请拨打03-1234-5678。", "请拨打零三，幺二三四，五六七八。"),
        ("免费电话0120-123-456", "免费电话零幺二零，幺二三，四五六"),
        ("09012345678", "零九零幺二三四五六七八"),
        ("〒100-0001", "幺零零，零零零幺"),
        ("120-0001", "幺二零，零零零幺"),  # a leading zero: a bare postal code, not a range
        ("邮编120-0001", "邮编幺二零，零零零幺"),
        ("〒1200001", "幺二零，零零零幺"),  # seven digits after 〒 or 邮编: digit by digit
        ("邮编1200001", "邮编幺二零，零零零幺"),
        ("邮政编码：1200001", "邮政编码：幺二零，零零零幺"),
        ("邮编是120-1234", "邮编是幺二零，幺二三四"),
    ],
)
def test_phone_numbers_and_postal_codes_are_read_digit_by_digit(text: str, said: str) -> None:
    assert spoken_numbers(text) == said


def test_text_without_digits_is_left_alone() -> None:
    for text in ("请说慢一点。", "需要记载个人编号（My Number）吗？", ""):
        assert spoken_numbers(text) == text


def test_full_width_latin_letters_are_folded_to_ascii() -> None:
    """Ｍｙ Ｎｕｍｂｅｒ is read as English only when it is ASCII; Chinese punctuation is kept as written."""
    assert spoken_numbers("Ｍｙ Ｎｕｍｂｅｒ卡") == "My Number卡"
    assert spoken_numbers("（ＡＴＭ）：请问？２个") == "（ATM）：请问？两个"


def test_digits_of_other_scripts_are_left_as_written() -> None:
    """The readings know 0-9 (full-width ones are folded first); an Arabic-Indic ٣ is not a KeyError."""
    assert spoken_numbers("٣") == "٣"
    assert spoken_numbers("第٣号，2个月，８：３０") == "第٣号，两个月，八点三十分"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1" + " " * 20_000, "一" + " " * 20_000),
        ("一" * 20_000 + "点1", "一" * 20_000 + "点一"),
        ("1 " * 10_000, "一 " * 10_000),
        ("1-" * 10_000, "一-" * 10_000),
        ("邮编" + " " * 20_000, "邮编" + " " * 20_000),
        ("月-" * 10_000 + "1日", "月-" * 9_999 + "月至一日"),
    ],
)
@pytest.mark.timeout(60)
def test_long_adversarial_text_is_read(text: str, said: str) -> None:
    """Each rule scans the text once (a rule that backtracks over spaces or numerals at every position
    took seconds on 20,000 characters; bench/ times it)."""
    assert spoken_numbers(text) == said
