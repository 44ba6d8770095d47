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
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Full-width digits and signs (typed or machine-translated Chinese) as ASCII, so one set of rules reads them.
#: Digits are ASCII only (``re.ASCII``): the readings know 0-9, other scripts' digits are left as written.
_HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "％": "%", "～": "~", "〜": "~", "－": "-", "．": "."}
)
#: A colon or full stop between digits (８：３０, 8．30) as ASCII.
_DIGIT_COLON = re.compile(r"(?<=\d)[：:](?=\d)", re.ASCII)
#: A thousands separator inside a number (1,000日元 is one thousand yen).
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))", re.ASCII)
#: A Japanese or Chinese phone number in groups (03-1234-5678, 0120-123-456, 090-1234-5678).
_PHONE_GROUPS = re.compile(r"(?<![\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?![\d-])", re.ASCII)
#: A postal code (〒100-0001) or a phone number without separators (09012345678).
_POSTAL = re.compile(r"〒\s*(\d{3})-(\d{4})(?!\d)", re.ASCII)
_PHONE_PLAIN = re.compile(r"(?<![\d.])0\d{9,10}(?![\d.])", re.ASCII)
#: A date in digits (2026-03-15, 2026/3/15, 2026.3.15) and a year before 年 (2026年: read digit by digit).
_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})日?(?![\d.])", re.ASCII)
_YEAR = re.compile(r"(?<![\d.])(\d{4})(?=年(?!级|龄|纪))", re.ASCII)
#: A month and day without the year (3/15). A proper fraction with a one-digit denominator (1/2, 2/3) is
#: as likely a fraction as a date and is left as written.
_MONTH_DAY = re.compile(r"(?<![\d./])(1[0-2]|0?[1-9])/([12]\d|3[01]|0?[1-9])日?(?![\d./])", re.ASCII)
#: A clock time (8:30, 17:15:00), with the word before it that makes 8.30 a time (上午8.30).
_DAYTIME = "上午|下午|早上|早晨|中午|晚上|傍晚|凌晨|夜里"
_TIME = re.compile(r"(?<![\d.])([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?![\d])分?", re.ASCII)
_DAYTIME_DOT = re.compile(rf"({_DAYTIME})\s*([01]?\d|2[0-4])\.([0-5]\d)(?!\d)分?", re.ASCII)
#: Two clock times (already in words) joined by a dash or a tilde: "from ... to ...".
_TIME_WORDS = r"[零一二三四五六七八九十]+点(?:[零一二三四五六七八九十]+分)?(?:[零一二三四五六七八九十]+秒)?"
_TIME_RANGE = re.compile(rf"({_TIME_WORDS})\s*[-~—]\s*(?=[零一二三四五六七八九十]+点)")
_PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%", re.ASCII)
_RANGE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[-~]\s*(\d+(?:\.\d+)?)(?![\d.])", re.ASCII)
#: 2 before a measure word is 两 (两个月, 两次, 两点); not in ordinals (第2个), dates (2月, 2号, 2日), floors
#: (2楼) or school years (2年级).
_LIANG = re.compile(
    r"(?<![\d.第])2(?![\d.])(?=个|次|份|张|位|名|人|本|件|条|种|周|星期|岁|小时|分钟|天|倍|项|家|间|台|辆|杯"
    r"|瓶|块|双|把|页|封|所|节|遍|趟|套|只|句|组|千|万|亿|年(?!级)|点(?!\d))",
    re.ASCII,
)
_DECIMAL = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])", re.ASCII)
_INTEGER = re.compile(r"\d+", re.ASCII)
#: Longer integers than this are read digit by digit (an id or a number, not an amount).
_LONGEST_CARDINAL = 12
#: A leading 2 before these units is 两 (2000 两千, 20000 两万, 2亿 两亿; 200 stays 二百, 12000 一万二千).
_LIANG_UNITS = ("二千", "二万", "二亿")


def _verbalisers() -> tuple[Callable[[str], str], Callable[..., str]]:
    """PaddleSpeech's number verbalisers as misaki vendors them: (cardinal, digit by digit); the cardinal
    says a leading 2 before 千, 万 or 亿 as 两."""
    from misaki.zh_normalization.num import num2str, verbalize_digit

    def cardinal(number: str) -> str:
        spoken = str(num2str(number))
        return "两" + spoken[1:] if spoken.startswith(_LIANG_UNITS) else spoken

    return cardinal, verbalize_digit


def spoken_numbers(text: str) -> str:
    """``text`` with every number written in Chinese characters as it is said (see the module docstring);
    text without digits is returned unchanged."""
    folded = text.translate(_HALF_WIDTH)
    if not _INTEGER.search(folded):
        return text
    text = _DIGIT_COLON.sub(":", folded)
    cardinal, digits = _verbalisers()

    def phone(groups: list[str]) -> str:
        return "，".join(digits(group, alt_one=True) for group in groups)

    def clock(hour: str, minute: str, second: str | None) -> str:
        """8:30 八点三十分, 10:05 十点零五分, 10:00 十点, 10:00:05 十点零分五秒, 8:30:05 八点三十分零五秒."""
        spoken = f"{cardinal(hour)}点" if int(hour) != 2 else "两点"
        if int(minute):
            spoken += f"{'零' if minute.startswith('0') else ''}{cardinal(minute)}分"
        if second and int(second):
            if not int(minute):
                spoken += "零分"
            elif second.startswith("0"):
                spoken += "零"
            spoken += f"{cardinal(second)}秒"
        return spoken

    def month_day(match: re.Match[str]) -> str:
        month, day = int(match[1]), int(match[2])
        if day < 10 and month < day:  # 1/2, 2/3: a fraction as likely as a date
            return match.group(0)
        return f"{cardinal(str(month))}月{cardinal(str(day))}日"

    text = _THOUSANDS.sub("", text)
    text = _PHONE_GROUPS.sub(lambda m: phone(m.group(0).split("-")), text)
    text = _POSTAL.sub(lambda m: phone([m.group(1), m.group(2)]), text)
    text = _PHONE_PLAIN.sub(lambda m: digits(m.group(0), alt_one=True), text)
    text = _DATE.sub(lambda m: f"{digits(m[1])}年{cardinal(m[2])}月{cardinal(m[3])}日", text)
    text = _MONTH_DAY.sub(month_day, text)
    text = _YEAR.sub(lambda m: digits(m[1]), text)
    text = _DAYTIME_DOT.sub(lambda m: m[1] + clock(m[2], m[3], None), text)
    text = _TIME.sub(lambda m: clock(m[1], m[2], m[3]), text)
    text = _TIME_RANGE.sub(r"\1至", text)
    text = _PERCENT.sub(lambda m: f"百分之{cardinal(m[1])}", text)
    text = _RANGE.sub(lambda m: f"{cardinal(m[1])}到{cardinal(m[2])}", text)
    text = _LIANG.sub("两", text)
    text = _DECIMAL.sub(lambda m: cardinal(f"{m[1]}.{m[2]}"), text)

    def integer(match: re.Match[str]) -> str:
        number = match.group(0)
        if (len(number) > 1 and number.startswith("0")) or len(number) > _LONGEST_CARDINAL:
            return str(digits(number, alt_one=True))  # a code or an id, not an amount
        return cardinal(number)

    return _INTEGER.sub(integer, text)
