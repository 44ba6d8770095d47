"""Dates, numbers and times made easy: 令和8年 → 2026年, 三時 → 3時, 15時 → 午後3時."""

from __future__ import annotations

import re
from typing import Final

from edge.easy_ja.numbers import NUMBER_PATTERN, kanji_to_int
from edge.easy_ja.rules.context import RuleContext

_ERAS: Final = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_RE: Final = re.compile(rf"(令和|平成|昭和)\s*(元|{NUMBER_PATTERN})\s*年")


def date_era(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``date.era``: 令和8年 → 2026年 (the Western year is what residents know)."""

    def repl(m: re.Match[str]) -> str:
        n = 1 if m.group(2) == "元" else kanji_to_int(m.group(2).translate(_FULLWIDTH))
        return m.group(0) if n is None else f"{_ERAS[m.group(1)] + n}年"

    new = _ERA_RE.sub(repl, text)
    return new, new != text


_FULLWIDTH: Final = str.maketrans("０１２３４５６７８９：", "0123456789:")
_KANJI_COUNTED_RE: Final = re.compile(
    r"(?:(?<=[月年毎第約の])|(?<![一-龯々]))([〇一二三四五六七八九十百千]+)"
    r"(時間|時|分|日間|日|か月|ヶ月|月|年|人|階|回|本|枚|歳|才|週間|番|円|個|冊|通|件)(?![的中])"
)


#: Kanji number + counter that are words: 一番 (most), 一時 (for a while), 十分 (enough), 一人一人.
_NOT_COUNTED: Final = frozenset({("一", "番"), ("一", "時"), ("十", "分"), ("一", "人")})


def number_digits(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``number.digits``: kanji numbers before a counter become digits (十四日 → 14日, 三時 → 3時)."""

    def repl(m: re.Match[str]) -> str:
        if (m.group(1), m.group(2)) in _NOT_COUNTED:
            return m.group(0)
        n = kanji_to_int(m.group(1))
        return m.group(0) if n is None else f"{n}{m.group(2)}"

    new = _KANJI_COUNTED_RE.sub(repl, text.translate(_FULLWIDTH))
    return new, new != text


_HOUR_RE: Final = re.compile(r"(午前|午後)?\s*(\d{1,2})時(?!間)(半|\d{1,2}分)?")
_CLOCK_RE: Final = re.compile(r"(?<![\d:])(午前|午後)?\s*(\d{1,2}):(\d{2})(?![\d:])")


def time_ampm(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``time.ampm``: times as 午前/午後 + 12-hour clock in digits (15時 → 午後3時, 9:30 → 午前9時30分).

    Chosen over 15:00 because the clerk says ごご さんじ and the written form should match what the
    resident hears; the ruby reads ごご さんじ.
    """

    def clock(m: re.Match[str]) -> str:
        hour, minute = int(m.group(2)), int(m.group(3))
        if hour > 24 or minute > 59:
            return m.group(0)
        tail = f"{minute}分" if minute else ""
        return _ampm(m.group(1), hour) + tail

    new = _CLOCK_RE.sub(clock, text)
    # With a 24-hour time in the sentence (9時から17時まで) a bare morning hour is made explicit too.
    afternoon = any(
        m.group(1) is None and 13 <= int(m.group(2)) <= 23 for m in _HOUR_RE.finditer(new)
    ) or bool(re.search(r"午前|午後", new) and new != text)

    def hour_repl(m: re.Match[str]) -> str:
        hour = int(m.group(2))
        if hour > 24 or (m.group(1) is None and hour <= 12 and not (afternoon and 6 <= hour <= 11)):
            return m.group(0)  # 3時 alone stays: the clerk said it that way
        return _ampm(m.group(1), hour) + (m.group(3) or "")

    new = _HOUR_RE.sub(hour_repl, new)
    return new, new != text


def _ampm(given: str | None, hour: int) -> str:
    if given is not None:
        return f"{given}{hour}時"
    if hour == 0 or hour == 24:
        return "午前0時"
    if hour == 12:
        return "午後0時"
    return f"午後{hour - 12}時" if hour > 12 else f"午前{hour}時"
