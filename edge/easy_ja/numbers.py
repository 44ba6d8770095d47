"""Readings of numbers with counter words (14日 → じゅうよっか, 3本 → さんぼん), and kanji numerals.

A number before a counter changes its sound (いち → いっ, ろく → ろっ, はち → はっ, じゅう → じゅっ)
and so does the counter (ほん → ぽん/ぼん, かい → がい). The analyser does not always get these
right (it reads 14日 as いちよんか), so the furigana for a number + counter comes from this table.
Dates (日) and people (人) have irregular readings and are listed in full.
"""

from __future__ import annotations

import re
from typing import Final

_DIGITS: Final = ("", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう")

#: Kanji numerals (and full-width digits) the rules understand.
KANJI_DIGITS: Final = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}


def kanji_to_int(text: str) -> int | None:
    """二十四 → 24, 百五 → 105, 二〇二六 → 2026, 14 → 14; None when not a number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(c in KANJI_DIGITS for c in text):  # positional: 二〇二六
        return int("".join(str(KANJI_DIGITS[c]) for c in text))
    total = 0
    section = 0
    digit: int | None = None
    for ch in text:
        if ch in KANJI_DIGITS:
            digit = KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            section += (digit if digit is not None else 1) * _KANJI_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _below_10000(n: int) -> str:
    out = ""
    thousands, rest = divmod(n, 1000)
    if thousands:
        out += {1: "せん", 3: "さんぜん", 8: "はっせん"}.get(thousands, _DIGITS[thousands] + "せん")
    hundreds, rest = divmod(rest, 100)
    if hundreds:
        out += {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}.get(
            hundreds, _DIGITS[hundreds] + "ひゃく"
        )
    tens, ones = divmod(rest, 10)
    if tens:
        out += ("" if tens == 1 else _DIGITS[tens]) + "じゅう"
    if ones:
        out += _DIGITS[ones]
    return out


def number_reading(n: int) -> str:
    """Plain reading of a non-negative integer: 2026 → にせんにじゅうろく, 0 → ぜろ."""
    if n == 0:
        return "ぜろ"
    out = ""
    oku, rest = divmod(n, 100_000_000)
    if oku:
        out += _below_10000(oku) + "おく"
    man, rest = divmod(rest, 10000)
    if man:
        out += ("いち" if man == 1 else _below_10000(man)) + "まん"
    return out + _below_10000(rest)


#: Counter → readings of 1..10 with that counter (index 0 unused). The last digit of a larger number
#: takes the same form (14本 = じゅう + よんほん, 20本 = に + じゅっぽん).
_COUNTERS: Final[dict[str, tuple[str, ...]]] = {
    "本": (
        "",
        "いっぽん",
        "にほん",
        "さんぼん",
        "よんほん",
        "ごほん",
        "ろっぽん",
        "ななほん",
        "はっぽん",
        "きゅうほん",
        "じゅっぽん",
    ),
    "分": (
        "",
        "いっぷん",
        "にふん",
        "さんぷん",
        "よんぷん",
        "ごふん",
        "ろっぷん",
        "ななふん",
        "はっぷん",
        "きゅうふん",
        "じゅっぷん",
    ),
    "階": (
        "",
        "いっかい",
        "にかい",
        "さんがい",
        "よんかい",
        "ごかい",
        "ろっかい",
        "ななかい",
        "はっかい",
        "きゅうかい",
        "じゅっかい",
    ),
    "回": (
        "",
        "いっかい",
        "にかい",
        "さんかい",
        "よんかい",
        "ごかい",
        "ろっかい",
        "ななかい",
        "はっかい",
        "きゅうかい",
        "じゅっかい",
    ),
    "個": (
        "",
        "いっこ",
        "にこ",
        "さんこ",
        "よんこ",
        "ごこ",
        "ろっこ",
        "ななこ",
        "はっこ",
        "きゅうこ",
        "じゅっこ",
    ),
    "歳": (
        "",
        "いっさい",
        "にさい",
        "さんさい",
        "よんさい",
        "ごさい",
        "ろくさい",
        "ななさい",
        "はっさい",
        "きゅうさい",
        "じゅっさい",
    ),
    "冊": (
        "",
        "いっさつ",
        "にさつ",
        "さんさつ",
        "よんさつ",
        "ごさつ",
        "ろくさつ",
        "ななさつ",
        "はっさつ",
        "きゅうさつ",
        "じゅっさつ",
    ),
    "通": (
        "",
        "いっつう",
        "につう",
        "さんつう",
        "よんつう",
        "ごつう",
        "ろくつう",
        "ななつう",
        "はっつう",
        "きゅうつう",
        "じゅっつう",
    ),
    "件": (
        "",
        "いっけん",
        "にけん",
        "さんけん",
        "よんけん",
        "ごけん",
        "ろっけん",
        "ななけん",
        "はっけん",
        "きゅうけん",
        "じゅっけん",
    ),
    "点": (
        "",
        "いってん",
        "にてん",
        "さんてん",
        "よんてん",
        "ごてん",
        "ろくてん",
        "ななてん",
        "はってん",
        "きゅうてん",
        "じゅってん",
    ),
    "週間": (
        "",
        "いっしゅうかん",
        "にしゅうかん",
        "さんしゅうかん",
        "よんしゅうかん",
        "ごしゅうかん",
        "ろくしゅうかん",
        "ななしゅうかん",
        "はっしゅうかん",
        "きゅうしゅうかん",
        "じゅっしゅうかん",
    ),
    "か月": (
        "",
        "いっかげつ",
        "にかげつ",
        "さんかげつ",
        "よんかげつ",
        "ごかげつ",
        "ろっかげつ",
        "ななかげつ",
        "はっかげつ",
        "きゅうかげつ",
        "じゅっかげつ",
    ),
    "時": ("", "いちじ", "にじ", "さんじ", "よじ", "ごじ", "ろくじ", "しちじ", "はちじ", "くじ", "じゅうじ"),
    "時間": (
        "",
        "いちじかん",
        "にじかん",
        "さんじかん",
        "よじかん",
        "ごじかん",
        "ろくじかん",
        "ななじかん",
        "はちじかん",
        "くじかん",
        "じゅうじかん",
    ),
    "月": (
        "",
        "いちがつ",
        "にがつ",
        "さんがつ",
        "しがつ",
        "ごがつ",
        "ろくがつ",
        "しちがつ",
        "はちがつ",
        "くがつ",
        "じゅうがつ",
    ),
    "年": (
        "",
        "いちねん",
        "にねん",
        "さんねん",
        "よねん",
        "ごねん",
        "ろくねん",
        "ななねん",
        "はちねん",
        "きゅうねん",
        "じゅうねん",
    ),
    "年間": (
        "",
        "いちねんかん",
        "にねんかん",
        "さんねんかん",
        "よねんかん",
        "ごねんかん",
        "ろくねんかん",
        "ななねんかん",
        "はちねんかん",
        "きゅうねんかん",
        "じゅうねんかん",
    ),
    "人": (
        "",
        "ひとり",
        "ふたり",
        "さんにん",
        "よにん",
        "ごにん",
        "ろくにん",
        "ななにん",
        "はちにん",
        "きゅうにん",
        "じゅうにん",
    ),
    "名": (
        "",
        "いちめい",
        "にめい",
        "さんめい",
        "よんめい",
        "ごめい",
        "ろくめい",
        "ななめい",
        "はちめい",
        "きゅうめい",
        "じゅうめい",
    ),
    "枚": (
        "",
        "いちまい",
        "にまい",
        "さんまい",
        "よんまい",
        "ごまい",
        "ろくまい",
        "ななまい",
        "はちまい",
        "きゅうまい",
        "じゅうまい",
    ),
    "円": (
        "",
        "いちえん",
        "にえん",
        "さんえん",
        "よえん",
        "ごえん",
        "ろくえん",
        "ななえん",
        "はちえん",
        "きゅうえん",
        "じゅうえん",
    ),
    "番": (
        "",
        "いちばん",
        "にばん",
        "さんばん",
        "よんばん",
        "ごばん",
        "ろくばん",
        "ななばん",
        "はちばん",
        "きゅうばん",
        "じゅうばん",
    ),
    "号": (
        "",
        "いちごう",
        "にごう",
        "さんごう",
        "よんごう",
        "ごごう",
        "ろくごう",
        "ななごう",
        "はちごう",
        "きゅうごう",
        "じゅうごう",
    ),
    "番目": (
        "",
        "いちばんめ",
        "にばんめ",
        "さんばんめ",
        "よんばんめ",
        "ごばんめ",
        "ろくばんめ",
        "ななばんめ",
        "はちばんめ",
        "きゅうばんめ",
        "じゅうばんめ",
    ),
}
_COUNTERS["才"] = _COUNTERS["歳"]
_COUNTERS["ヶ月"] = _COUNTERS["カ月"] = _COUNTERS["ケ月"] = _COUNTERS["ヵ月"] = _COUNTERS["か月"]

#: Days of the month (also day counts 2–10): irregular readings.
_DAYS: Final[dict[int, str]] = {
    1: "ついたち", 2: "ふつか", 3: "みっか", 4: "よっか", 5: "いつか", 6: "むいか", 7: "なのか",
    8: "ようか", 9: "ここのか", 10: "とおか", 14: "じゅうよっか", 20: "はつか", 24: "にじゅうよっか",
}  # fmt: skip

#: Every counter word the table knows, longest first (for the regex).
COUNTER_WORDS: Final = tuple(sorted([*_COUNTERS, "日間", "日"], key=len, reverse=True))

NUMBER_PATTERN: Final = r"[0-9０-９]+|[〇零一二三四五六七八九十百千万]+"

#: A number followed by a counter (first match wins: longest counter first).
COUNTED_RE: Final = re.compile(rf"({NUMBER_PATTERN})({'|'.join(map(re.escape, COUNTER_WORDS))})")


def _day_reading(n: int) -> str:
    if n in _DAYS:
        return _DAYS[n]
    if n % 10 == 4:
        return number_reading(n - 4) + "よっか"
    base = number_reading(n)
    if n % 10 == 7:
        base = base[: -len("なな")] + "しち"
    elif n % 10 == 9:
        base = base[: -len("きゅう")] + "く"
    return base + "にち"


def counted_reading(n: int, counter: str, *, day_count: bool = False) -> str:
    """Reading of ``n`` + ``counter``: (14, 日) → じゅうよっか, (3, 本) → さんぼん, (1, 人) → ひとり.

    ``day_count``: 1日 is いちにち (one day) rather than ついたち (the first of the month).
    """
    if counter == "日":
        return "いちにち" if n == 1 and day_count else _day_reading(n)
    if counter == "日間":
        return "いちにちかん" if n == 1 else _day_reading(n) + "かん"
    table = _COUNTERS.get(counter)
    if table is None:
        return number_reading(n) + counter
    if counter in ("才", "歳") and n == 20:
        return "はたち"
    if counter == "人" and n > 10 and n % 10 in (1, 2):
        # 11人 じゅういちにん, 12人 じゅうににん: ひとり/ふたり are for 1 and 2 only.
        return number_reading(n) + "にん"
    if 1 <= n <= 10:
        return table[n]
    ones = n % 10
    if ones:
        return number_reading(n - ones) + table[ones]
    tens = (n % 100) // 10
    if tens:
        # 20本 = に + じゅっぽん; 120本 = ひゃく + にじゅっぽん.
        head = number_reading(n - n % 100) if n >= 100 else ""
        return head + ("" if tens == 1 else _DIGITS[tens]) + table[10]
    # Round hundreds and beyond: the plain counter sound (ひゃくにん, せんえん), geminated after
    # ひゃく where 10 geminates (ひゃっぽん, ひゃっかい).
    plain = number_reading(n)
    if plain.endswith("ひゃく") and table[10].startswith("じゅっ"):
        return plain[:-1] + table[10][len("じゅ") :]
    return plain + table[2][len("に") :]


def to_int(number: str) -> int | None:
    """Arabic (half/full width) or kanji numeral → int."""
    half = number.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return kanji_to_int(half)
