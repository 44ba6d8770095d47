"""Mandarin text as it is said: numbers, dates, times, percentages and phone numbers written in Chinese
characters, chosen by what each number is, before a voice reads the text (and before the benchmark compares
what it heard with what it asked for).

misaki[zh] as Kokoro v1.0 uses it turns digits into characters with cn2an's ``transform``, which misreads
a counter's numbers: 300日元 → 三零日元 (its date rule takes "00日" for a day), 1,000 → 一,零,
2个月 → 二个月, 8:30 → 八:三十, 3/15 → 十五分之三; its ``an2cn`` and PaddleSpeech's ``num2str`` both write
2000 as 二千 where Mandarin says 两千. Here each number is recognised by its form and context (a phone number,
a date, a time, a percentage, a range, an amount) and written with PaddleSpeech's verbalisers as misaki
vendors them (``misaki.zh_normalization``): 300日元 → 三百日元, 03-1234-5678 → 零三，幺二三四，五六七八,
上午8:30 → 上午八点三十分, 10:00:05 → 十点零分五秒, 3/15 → 三月十五日, 2个月 → 两个月, 2,000 → 两千,
2026年 → 二零二六年.

Japanese addresses, postal codes and dates come through machine translation as written: a block/lot chain
(1-2-3, three or more groups) is read as mainland Chinese says a hyphen in a house number, each number a
cardinal joined by 杠 (一杠二杠三); 1丁目2番3号 keeps its words (一丁目二番三号); so are two groups after
丁目/番/号 or a place name with no unit after them (千住3丁目2-5 千住三丁目二杠五, 千住2-5) and 1-1. A postal
code (〒120-0001, 邮编1200001, a bare 120-0001 with its leading zero) is read digit by digit like a phone
number (幺二零，零零零幺). A range is two groups only: 20-59岁 二十到五十九岁, 2-3周 两到三周, 10-30%
百分之十到百分之三十, 2026-2027年 二零二六到二零二七年, 3—5天 三到五天; two dates or times are
"from ... to" (4月1日-4月30日 四月一日至四月三十日). A decimal keeps every written digit after 点 (v2.0
v二点零, 2.50 二点五零), a version 1.2.3 is 一点二点三, and a proper fraction with a one-digit denominator
or a share (1/10的费用) is a fraction (1/2 二分之一; 3/15 is a date). Full-width Latin letters and signs
are folded to ASCII (Ｍｙ Ｎｕｍｂｅｒ → My Number, read as English); Chinese punctuation (，：；！？（）)
is kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

#: Chinese punctuation in the full-width block, kept as written (misaki's ``map_punctuation`` reads it).
_CHINESE_PUNCTUATION = "！，：；？（）"
#: Full-width ASCII (U+FF01-FF5E: digits, Latin letters, signs; typed or machine-translated Chinese) and
#: other dashes as ASCII, so one set of rules reads the numbers and Latin words are read as English.
#: Digits are ASCII only (``re.ASCII``): the readings know 0-9, other scripts' digits are left as written.
_HALF_WIDTH = str.maketrans(
    {
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c) not in _CHINESE_PUNCTUATION},
        **{dash: "-" for dash in "‐‑‒–−"},
        "〜": "~",
    }
)
#: A colon or full stop between digits (８：３０, 8．30) as ASCII.
_DIGIT_COLON = re.compile(r"(?<=\d)[：:](?=\d)", re.ASCII)
#: A long dash or a prolonged-sound mark between digits (3—5天, 3ー5天) is a range: a tilde.
_DIGIT_DASH = re.compile(r"(?<=\d)\s*[—―ー]\s*(?=\d)", re.ASCII)
#: A thousands separator inside a number (1,000日元 is one thousand yen).
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))", re.ASCII)
#: A Japanese or Chinese phone number in groups (03-1234-5678, 0120-123-456, 090-1234-5678).
_PHONE_GROUPS = re.compile(r"(?<![\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?![\d-])", re.ASCII)
#: A postal code: after 〒, 邮编 or 邮政编码 (〒100-0001, 邮编1200001); else 3-4 groups are one when the
#: text speaks of postal codes (邮编, 邮政, 邮便) or the second group has a leading zero (120-0001: no
#: amount has one), unless an amount follows (100-1000日元, 费用为500-1000 are ranges).
_POSTAL = re.compile(
    r"(?:(〒|邮编|邮政编码)([\s:：是为]*))?(?<![\d.\-])(\d{3})(-?)(\d{4})(?![\d\-]|\.\d)", re.ASCII
)
_MAIL = re.compile("邮(?:编|政|便|递区号)")
#: A phone number without separators (09012345678).
_PHONE_PLAIN = re.compile(r"(?<![\d.])0\d{9,10}(?![\d.])", re.ASCII)
#: A date in digits (2026-03-15, 2026/3/15, 2026.3.15) and a year before 年 (2026年: read digit by digit).
_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})日?(?![\d.])", re.ASCII)
_YEAR = re.compile(r"(?<![\d.])(\d{4})(?=年(?!级|龄|纪))", re.ASCII)
#: Two years (2026-2027年, 2026年-2027年), both read digit by digit.
_YEAR_RANGE = re.compile(r"(?<![\d.])(\d{4})(年?)\s*[-~]\s*(\d{4})(?=年(?!级|龄|纪))", re.ASCII)
#: A version (1.2.3, after dates: 2026.3.15 is a date) and a Japanese block/lot chain (1-2-3, after phone
#: numbers and postal codes).
_VERSION = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])", re.ASCII)
_ADDRESS = re.compile(r"(?<![\d.\-])\d+(?:-\d+){2,}(?![\d\-]|\.\d)", re.ASCII)
#: A month and day without the year (3/15). A proper fraction with a one-digit denominator (1/2, 2/3) is
#: as likely a fraction as a date and is read as a fraction (二分之一), and so is one before 的 and a share
#: of something (1/10的费用 十分之一的费用) or before 以上/以下.
_MONTH_DAY = re.compile(r"(?<![\d./])(1[0-2]|0?[1-9])/([12]\d|3[01]|0?[1-9])日?(?![\d./])", re.ASCII)
_SHARE_AFTER = re.compile(r"的(?:费|金额|部分|人|比例|收入|税|工资|补|保险|份|额)|以上|以下|左右")
#: Two dates (in digits or already in words) joined by a dash or a tilde: "from ... to ..." (4月1日-4月30日).
_DATE_RANGE = re.compile(r"(?<=[月日号])\s*[-~]\s*(?=[\d零一二三四五六七八九十]+[年月日号])")
#: A clock time (8:30, 17:15:00), with the word before it that makes 8.30 a time (上午8.30).
_DAYTIME = "上午|下午|早上|早晨|中午|晚上|傍晚|凌晨|夜里"
_TIME = re.compile(r"(?<![\d.])([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?![\d])分?", re.ASCII)
_DAYTIME_DOT = re.compile(rf"({_DAYTIME})\s*([01]?\d|2[0-4])\.([0-5]\d)(?!\d)分?", re.ASCII)
#: Two clock times (already in words) joined by a dash or a tilde: "from ... to ...".
_TIME_WORDS = r"[零一二三四五六七八九十]+点(?:[零一二三四五六七八九十]+分)?(?:[零一二三四五六七八九十]+秒)?"
_TIME_RANGE = re.compile(
    rf"(?<![零一二三四五六七八九十])({_TIME_WORDS})\s*[-~—]\s*(?=[零一二三四五六七八九十]+点)"
)
_NUMBER = r"\d+(?:\.\d+)?"
_PERCENT = re.compile(rf"(?<![\d.])({_NUMBER})\s*%", re.ASCII)
_PERCENT_RANGE = re.compile(rf"(?<![\d.])({_NUMBER})\s*(?:%\s*)?[-~]\s*({_NUMBER})\s*%", re.ASCII)
_RANGE = re.compile(rf"(?<![\d.\-])({_NUMBER})\s*([-~])\s*({_NUMBER})(?![\d.\-])", re.ASCII)
#: Measure words (streaming cuts keep them with their number): 2 before one is 两 (两个月, 两次, 两点);
#: not in ordinals (第2个), dates (2月, 2号, 2日), floors (2楼) or school years (2年级).
MEASURE_WORDS = (
    r"个|次|份|张|位|名|人|本|件|条|种|周|星期|岁|小时|分钟|天|倍|项|家|间|台|辆|杯"
    r"|瓶|块|双|把|页|封|所|节|遍|趟|套|只|句|组|千|万|亿|年(?!级)|点(?!\d)|成(?!为|立|功|员)"
)
#: 2 before a measure word, also as the first number of a range (2到3周 两到三周).
_LIANG = re.compile(rf"(?<![\d.第])2(?![\d.])(?=(?:\s*[到至或~-]\s*\d+)?\s*(?:{MEASURE_WORDS}))", re.ASCII)
#: Where X-Y is an address (千住2-5, 3丁目2-5, 1-1: block and lot), not a range: after 丁目, 番 or 号, or
#: after a place name's character: a Chinese character that is no measure word, unit, numeral or a word
#: that comes before an amount (是, 为, 约, 需要 ...).
_ADDRESS_BEFORE = re.compile(r"(?:丁目|番地?|号)\s*$")
_NOT_PLACE_CHARS = (
    "零〇一二两三四五六七八九十百月日号时分秒元円米"  # numerals, dates, times, units
    "约为是在从自至到于需要有达共计花付用按每和或及与的了前后内外以第"  # words before an amount
    "费额价金钱款税率仅超过低高少多增减占各等概估"
    "格值数量围龄度温重长宽期限"  # what is measured (价格, 范围, 年龄, 数量)
)
_NOT_PLACE = re.compile(rf"(?:{MEASURE_WORDS}|[{_NOT_PLACE_CHARS}])$")
_HAN_BEFORE = re.compile(r"[\u4e00-\u9fff]$")
#: What makes 100-1000 an amount (a range), not a postal code.
_AMOUNT_AFTER = re.compile(rf"\s*(?:%|日元|元|円|米|公里|公斤|{MEASURE_WORDS})")
_MEASURE_AFTER = re.compile(rf"\s*(?:{MEASURE_WORDS})")
_DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])", re.ASCII)
_INTEGER = re.compile(r"\d+", re.ASCII)
#: Longer integers than this are read digit by digit (an id or a number, not an amount).
_LONGEST_CARDINAL = 12
#: A leading 2 before these units is 两 (2000 两千, 20000 两万, 2亿 两亿; 200 stays 二百, 12000 一万二千).
_LIANG_UNITS = ("二千", "二万", "二亿")


@functools.cache
def _verbalisers() -> tuple[Callable[[str], str], Callable[..., str]]:
    """PaddleSpeech's number verbalisers as misaki vendors them: (cardinal, digit by digit)."""
    from misaki.zh_normalization.num import num2str, verbalize_digit

    return num2str, verbalize_digit


def _cardinal(number: str) -> str:
    """An integer as an amount; a leading 2 before 千, 万 or 亿 is 两."""
    spoken = str(_verbalisers()[0](number))
    return "两" + spoken[1:] if spoken.startswith(_LIANG_UNITS) else spoken


def _digits(number: str, alt_one: bool = False) -> str:
    """Digit by digit (幺 for 1 with ``alt_one``, as phone numbers and codes are said)."""
    return str(_verbalisers()[1](number, alt_one=alt_one))


def _number(number: str) -> str:
    """An integer or a decimal: 1.5 一点五, 2.0 二点零 (every written digit after 点), 0123 零幺二三 (a code),
    longer than ``_LONGEST_CARDINAL`` digits digit by digit (an id)."""
    integer, point, fraction = number.partition(".")
    if point:
        return f"{_cardinal(integer)}点{_digits(fraction)}"
    if (len(number) > 1 and number.startswith("0")) or len(number) > _LONGEST_CARDINAL:
        return _digits(number, alt_one=True)
    return _cardinal(number)


def _phone(groups: list[str]) -> str:
    return "，".join(_digits(group, alt_one=True) for group in groups)


def _postal(match: re.Match[str]) -> str:
    mark, between, first, dash, last = match.groups()
    if not mark and (
        not dash
        or _AMOUNT_AFTER.match(match.string, match.end())
        or (not _MAIL.search(match.string) and not last.startswith("0"))
    ):
        return match.group(0)  # 100-1000日元, 费用为500-1000: a range; 1234567: a number
    said = _phone([first, last])
    return said if mark == "〒" else f"{mark or ''}{between or ''}{said}"


def _range(match: re.Match[str]) -> str:
    """X-Y as a range (20-59岁 二十到五十九岁, 2-3周 两到三周) or as an address's block and lot (千住2-5
    千住二杠五, 1-1 一杠一)."""
    first, dash, last = match.groups()
    before = match.string[max(0, match.start() - 4) : match.start()]
    measure = _AMOUNT_AFTER.match(match.string, match.end())
    if dash == "-" and "." not in first + last:
        place = _HAN_BEFORE.search(before) and not _NOT_PLACE.search(before)
        if first == last or (not measure and (_ADDRESS_BEFORE.search(before) or place)):
            return f"{_number(first)}杠{_number(last)}"
    if measure and (not _MEASURE_AFTER.match(match.string, match.end()) or before.endswith("第")):
        measure = None  # 100-200日元, 第2-3页: no 两
    return "到".join("两" if measure and part == "2" else _number(part) for part in (first, last))


def _clock(hour: str, minute: str, second: str | None) -> str:
    """8:30 八点三十分, 10:05 十点零五分, 10:00 十点, 10:00:05 十点零分五秒, 8:30:05 八点三十分零五秒."""
    spoken = f"{_cardinal(hour)}点" if int(hour) != 2 else "两点"
    if int(minute):
        spoken += f"{'零' if minute.startswith('0') else ''}{_cardinal(minute)}分"
    if second and int(second):
        if not int(minute):
            spoken += "零分"
        elif second.startswith("0"):
            spoken += "零"
        spoken += f"{_cardinal(second)}秒"
    return spoken


def _month_day(match: re.Match[str]) -> str:
    month, day = int(match[1]), int(match[2])
    share = not match.group(0).endswith("日") and _SHARE_AFTER.match(match.string, match.end())
    if month < day and (
        day < 10 or (share and day % 10 == 0)
    ):  # 1/2, 2/3: a fraction as likely as a date, said as a fraction
        return f"{_cardinal(str(day))}分之{_cardinal(str(month))}"
    return f"{_cardinal(str(month))}月{_cardinal(str(day))}日"


#: Each rule in turn: its pattern and what a match is said as (earlier rules take what later ones would
#: misread: a phone number before a range, a date before a decimal).
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_PHONE_GROUPS, lambda m: _phone(m.group(0).split("-"))),
    (_POSTAL, _postal),
    (_PHONE_PLAIN, lambda m: _digits(m.group(0), alt_one=True)),
    (_DATE, lambda m: f"{_digits(m[1])}年{_cardinal(m[2])}月{_cardinal(m[3])}日"),
    (_VERSION, lambda m: "点".join(_number(part) for part in m.group(0).split("."))),
    (_ADDRESS, lambda m: "杠".join(_number(part) for part in m.group(0).split("-"))),
    (_MONTH_DAY, _month_day),
    (_DATE_RANGE, lambda m: "至"),
    (_YEAR_RANGE, lambda m: f"{_digits(m[1])}{m[2]}到{_digits(m[3])}"),
    (_YEAR, lambda m: _digits(m[1])),
    (_DAYTIME_DOT, lambda m: m[1] + _clock(m[2], m[3], None)),
    (_TIME, lambda m: _clock(m[1], m[2], m[3])),
    (_TIME_RANGE, lambda m: f"{m[1]}至"),
    (_PERCENT_RANGE, lambda m: f"百分之{_number(m[1])}到百分之{_number(m[2])}"),
    (_PERCENT, lambda m: f"百分之{_number(m[1])}"),
    (_RANGE, _range),
    (_LIANG, lambda m: "两"),
    (_DECIMAL, lambda m: _number(m.group(0))),
    (_INTEGER, lambda m: _number(m.group(0))),
)


def spoken_numbers(text: str) -> str:
    """``text`` with every number written in Chinese characters as it is said and full-width Latin letters
    and signs as ASCII (see the module docstring); text without digits is only folded."""
    text = text.translate(_HALF_WIDTH)
    if not _INTEGER.search(text):
        return text
    text = _DIGIT_DASH.sub("~", _THOUSANDS.sub("", _DIGIT_COLON.sub(":", text)))
    for pattern, said in _RULES:
        text = pattern.sub(said, text)
    return text
