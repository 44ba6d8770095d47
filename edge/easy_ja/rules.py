"""The rewriting rules, one small function per rule of the 在留支援のためのやさしい日本語ガイドライン (2020).

Every rule has a stable id (reported in ``rules_fired`` so a reviewer can check each change) and
takes a sentence, returning the new sentence and whether it fired. Glossary terms have been replaced
by placeholders (private-use characters) before the rules run, so no rule can touch an official term.

Guideline → rule ids:

- 敬語を使わない、です・ます で話す: ``honorific.expression`` (お越しください → 来てください),
  ``honorific.request`` (〜ていただけますでしょうか → 〜てください),
  ``honorific.go_suru`` (ご記入ください → 記入してください), ``honorific.o_verb`` (お待ちください →
  待ってください), ``honorific.gozaimasu`` (〜でございます → 〜です), ``honorific.humble``
  (いたします → します, おります → います), ``honorific.question`` (〜でしょうか → 〜ですか),
  ``honorific.go_prefix`` (ご住所 → 住所).
- 二重否定を使わない: ``negation.double`` (〜しなければなりません → 〜してください).
- 難しい言葉を簡単な言葉に: ``lexical.expression``, ``lexical.paraphrase`` (with conjugation),
  ``lexical.loanword`` (katakana kept only when easier), ``lexical.person`` (方 read かた → 人).
- 年月日・時間をわかりやすく: ``date.era`` (令和8年 → 2026年), ``number.digits`` (三時 → 3時),
  ``time.ampm`` (15時 → 午後3時).
- 一文を短く、一つの文に一つのこと: ``split.node`` (〜ので、 → 〜。ですから、), ``split.ga``
  (〜ますが、 → 〜ます。でも、), ``split.te`` (〜て、〜てください → 〜てください。それから、〜).

Guards (``unsafe_reason``): a sentence with quoted speech, negation whose scope a rule could change,
or a conditional on a negation is left exactly as it is and marked unsimplified; a sentence with any
conditional is not split (the condition must stay with its consequence).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from edge.easy_ja.analyzer import Analyzer, Morpheme
from edge.easy_ja.conjugate import conjugate_phrase, conjugate_word, form_of
from edge.easy_ja.numbers import NUMBER_PATTERN, kanji_to_int
from edge.easy_ja.paraphrases import ParaphraseDictionary

_LOGGER = logging.getLogger(__name__)

PLACEHOLDER_BASE: Final = 0xE000
"""Glossary terms become one private-use character each (U+E000 + index) while the rules run."""


@dataclass(frozen=True)
class RuleContext:
    """What the rules need: the analyser and the paraphrase dictionary."""

    analyzer: Analyzer
    paraphrases: ParaphraseDictionary


RuleFn = Callable[[str, RuleContext], tuple[str, bool]]


# --- guards ------------------------------------------------------------------------------------

_QUOTE_RE: Final = re.compile(r"[「『“\"]|と(?:言|い)(?:って|いました|われ)|とおっしゃ|と書いて|って言")
_NEGATION_SCOPE_RE: Final = re.compile(
    r"わけでは(?:ない|ありません)|とは限(?:らない|りません)|ないこと(?:は|も)(?:ない|ありません)"
    r"|ないわけには|ずには|なくもない|ないでもない|ないとも限"
)
_CONDITIONAL_NEGATION_RE: Final = re.compile(
    r"(?:なければ|なくては|なかったら|ないなら|ない場合|なかった場合|ないと)"
    r"(?!\s*(?:なりません|なら(?:ない|ず)|いけません|いけない|だめ|ダメ)).*(?:ません|ない|ず)"
)
_CONDITIONAL_RE: Final = re.compile(
    r"(?:たら|だら|れば|えば|けば|せば|てば|ねば|べば|めば|なら|場合|ときは|時は)"
)


def unsafe_reason(sentence: str) -> str | None:
    """Why a sentence must stay as it is, or None.

    ``quoted_speech``: someone's words; ``negation_scope``: 〜ないわけではない, 〜とは限らない ...;
    ``conditional_negation``: a negative condition with a negative consequence (書類がなければ、
    受け付けできません), where making either side positive changes the meaning.
    """
    if _QUOTE_RE.search(sentence):
        return "quoted_speech"
    if _NEGATION_SCOPE_RE.search(sentence):
        return "negation_scope"
    if _CONDITIONAL_NEGATION_RE.search(sentence):
        return "conditional_negation"
    return None


def has_conditional(sentence: str) -> bool:
    """True when the sentence states a condition (then it is never split)."""
    return bool(_CONDITIONAL_RE.search(sentence))


# --- dates, numbers, times ---------------------------------------------------------------------

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


# --- honorific and humble forms → plain です/ます --------------------------------------------------

_REQUEST_RE: Final = re.compile(
    r"(て|で)(?:いただけ(?:ます|ません)(?:でしょう)?か|いただけますよう(?:お願い(?:いた|致)?します|お願い申し上げます)"
    r"|いただきますよう(?:お願い(?:いた|致)?します|お願い申し上げます)|いただきたいのですが|いただきたいと思います"
    r"|いただけると(?:助かります|幸いです)|もらえ(?:ます|ません)か|くださいますか|くださいませんか|くださいますよう(?:お願い(?:いた|致)?します)?"
    r"|いただきます(?=[。!！]|$)|いただければと思います|ほしいです|ほしいと思います|いただく必要があります)"
)


def honorific_request(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.request``: 〜ていただけますでしょうか / 〜てもらえますか → 〜てください."""
    new = _REQUEST_RE.sub(lambda m: m.group(1) + "ください", text)
    return new, new != text


_GO_SURU_RE: Final = re.compile(
    r"(?:ご|御|お)([一-龯]{2,4})(?:ください|下さい|いただけ(?:ます|ません)(?:でしょう)?か|いただきますよう(?:お願い(?:いた|致)?します)?"
    r"|をお願い(?:いた|致)?します|願います)"
)


_GO_SURU_OTHER_RE: Final = re.compile(
    r"(?:ご|御|お)([一-龯]{2,4})(いただけます|いただけません|いただく|の(?:場合|際|とき|時)|の(?:上|うえ)、?|の方|します|しています|しました)"
)
_GO_SURU_OTHER: Final = {
    "いただけます": "できます",
    "いただけません": "できません",
    "いただく": "する",
    "の方": "する人",
    "します": "します",
    "しています": "しています",
    "しました": "しました",
}


def _is_suru_noun(ctx: RuleContext, word: str) -> bool:
    morphemes = ctx.analyzer.tokenize(word)
    return len(morphemes) == 1 and morphemes[0].is_suru_noun


def honorific_go_suru(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.go_suru``: ご記入ください / ご提出いただけますか → 記入してください, ご利用いただけます
    → 利用できます, ご記入の上 → 記入してから, ご利用の場合 → 利用する場合 (a サ変 noun only)."""

    def request(m: re.Match[str]) -> str:
        return f"{m.group(1)}してください" if _is_suru_noun(ctx, m.group(1)) else m.group(0)

    def other(m: re.Match[str]) -> str:
        if not _is_suru_noun(ctx, m.group(1)):
            return m.group(0)
        tail = m.group(2)
        if tail in _GO_SURU_OTHER:
            return m.group(1) + _GO_SURU_OTHER[tail]
        if tail.startswith(("の上", "のうえ")):
            return f"{m.group(1)}してから、"
        return f"{m.group(1)}する{tail[1:]}"  # の場合 → する場合

    new = _GO_SURU_RE.sub(request, text)
    new = _GO_SURU_OTHER_RE.sub(other, new)
    return new, new != text


_O_VERB_TAIL: Final = ("ください", "下さい", "いただけ", "願い")


def honorific_o_verb(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.o_verb``: お待ちください / お書きいただけますか → 待ってください (お + verb stem)."""
    ms = ctx.analyzer.tokenize(text)
    for i in range(len(ms) - 2):
        prefix, verb, tail = ms[i], ms[i + 1], ms[i + 2]
        if not (prefix.surface in ("お", "御") and prefix.pos[0] == "接頭辞" and verb.is_verb):
            continue
        if not verb.conj_form.startswith("連用形"):
            continue
        if tail.surface == "に" and i + 3 < len(ms) and ms[i + 3].dictionary_form == "なる":
            # お取りになって → 取って, お持ちになりますか → 持ちますか (respect form → plain verb).
            naru = ms[i + 3]
            form = form_of(naru.conj_form, _next_surface(ms, i + 3))
            if form is None:
                continue
            try:
                out = conjugate_word(verb.dictionary_form, verb.conj_type, form)
            except (ValueError, KeyError):
                continue
            end = naru.end
            if form in ("te", "ta", "ba") and i + 4 < len(ms):
                out += ms[i + 4].surface[1:]
                end = ms[i + 4].end
            return honorific_o_verb(text[: prefix.start] + out + text[end:], ctx)[0], True
        if tail.dictionary_form in ("する", "頂く", "いただく") and not tail.surface.startswith("いただけ"):
            # お呼びします → 呼びます, お待ちいただくことがあります → 待つことがあります.
            form = form_of(tail.conj_form, _next_surface(ms, i + 2))
            if form is None:
                continue
            try:
                out = conjugate_word(verb.dictionary_form, verb.conj_type, form)
            except (ValueError, KeyError):
                continue
            end = tail.end
            if form in ("te", "ta", "ba") and i + 3 < len(ms):
                out += ms[i + 3].surface[1:]
                end = ms[i + 3].end
            return honorific_o_verb(text[: prefix.start] + out + text[end:], ctx)[0], True
        if not tail.surface.startswith(_O_VERB_TAIL):
            continue
        end = _request_tail_end(text, tail.start)
        if end is None:
            continue
        try:
            te = conjugate_word(verb.dictionary_form, verb.conj_type, "te")
        except (ValueError, KeyError):
            continue
        new = text[: prefix.start] + te + "ください" + text[end:]
        return honorific_o_verb(new, ctx)[0], True
    return text, False


_TAIL_RE: Final = re.compile(
    r"(?:ください|下さい|いただけ(?:ます|ません)(?:でしょう)?か|いただきますよう(?:お願い(?:いた|致)?します)?|願います)"
)


def _request_tail_end(text: str, start: int) -> int | None:
    m = _TAIL_RE.match(text, start)
    return m.end() if m else None


def _replace_all(text: str, pairs: Iterable[tuple[str, str]]) -> tuple[str, bool]:
    """Apply each (old, easy) replacement in order; return the text and whether it changed."""
    new = text
    for old, easy in pairs:
        new = new.replace(old, easy)
    return new, new != text


_GOZAIMASU: Final = (
    ("でございましょうか", "ですか"),
    ("でございますか", "ですか"),
    ("でございました", "でした"),
    ("でございます", "です"),
    ("ございましたら", "あったら"),
    ("ございません", "ありません"),
    ("ございました", "ありました"),
    ("ございます", "あります"),
)


def honorific_gozaimasu(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.gozaimasu``: 〜でございます → 〜です, ございます → あります."""
    return _replace_all(text, _GOZAIMASU)


_HUMBLE: Final = (
    ("させていただきます", "します"),
    ("させていただきました", "しました"),
    ("させていただいて", "して"),
    ("いたしかねます", "できません"),
    ("いたします", "します"),
    ("致します", "します"),
    ("いたしました", "しました"),
    ("致しました", "しました"),
    ("いたしましょう", "しましょう"),
    ("いたしません", "しません"),
    ("ております", "ています"),
    ("でおります", "でいます"),
    ("ておりました", "ていました"),
    ("でおりました", "でいました"),
    ("ておりません", "ていません"),
    ("でおりません", "でいません"),
    ("おります", "います"),
    ("おりません", "いません"),
    ("かねます", "できません"),
)


def honorific_humble(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.humble``: いたします → します, 〜ております → 〜ています, 〜かねます → できません."""
    return _replace_all(text, _HUMBLE)


_QUESTION: Final = (
    ("よろしいでしょうか", "いいですか"),
    ("よろしいですか", "いいですか"),
    ("よろしければ", "よかったら"),
    ("ませんでしょうか", "ませんか"),
    ("ますでしょうか", "ますか"),
    ("でしょうか", "ですか"),
)


def honorific_question(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.question``: 〜でしょうか → 〜ですか, よろしいでしょうか → いいですか."""
    return _replace_all(text, _QUESTION)


#: Words that are not words without their ご (ご覧, ご存じ, ご馳走, ご機嫌).
_GO_KEPT: Final = frozenset({"覧", "存じ", "存知", "馳走", "機嫌", "無沙汰"})


def honorific_go_prefix(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.go_prefix``: the honorific ご before a noun is dropped (ご住所 → 住所)."""
    ms = ctx.analyzer.tokenize(text)
    cuts = [
        a.start
        for a, b in itertools.pairwise(ms)
        if a.surface in ("ご", "御")
        and a.pos[0] == "接頭辞"
        and b.pos[0] == "名詞"
        and b.surface not in _GO_KEPT
    ]
    if not cuts:
        return text, False
    for start in reversed(cuts):
        text = text[:start] + text[start + 1 :]
    return text, True


def honorific_mashitara(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.mashitara``: 〜ましたら → 〜たら (届きましたら → 届いたら)."""
    ms = ctx.analyzer.tokenize(text)
    for i in range(1, len(ms) - 1):
        if ms[i].surface == "まし" and ms[i + 1].surface == "たら" and ms[i - 1].is_verb:
            v = ms[i - 1]
            try:
                ta = conjugate_word(v.dictionary_form, v.conj_type, "ta")
            except (ValueError, KeyError):
                continue
            new = text[: v.start] + ta + "ら" + text[ms[i + 1].end :]
            return honorific_mashitara(new, ctx)[0], True
    return text, False


# --- double negatives --------------------------------------------------------------------------

_MUST_RE: Final = re.compile(
    r"(?:なければ|なくては|ないと)(?:なりません|いけません|だめです|ダメです)(?=[。!！]|$|よ|ね)"
)


def negation_double(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``negation.double``: 〜しなければなりません → 〜してください (a verb only; past and questions stay)."""
    m = _MUST_RE.search(text)
    if m is None:
        return text, False
    before = [x for x in ctx.analyzer.tokenize(text) if x.end == m.start()]
    if not before or not before[0].is_verb or not before[0].conj_form.startswith("未然形"):
        return text, False
    verb = before[0]
    try:
        te = conjugate_word(verb.dictionary_form, verb.conj_type, "te")
    except (ValueError, KeyError):
        return text, False
    new = text[: verb.start] + te + "ください" + text[m.end() :]
    return negation_double(new, ctx)[0], True


# --- words ------------------------------------------------------------------------------------


def _fixed(text: str, ctx: RuleContext, kind: str) -> tuple[str, bool]:
    return _replace_all(text, ((e.word, e.easy) for e in ctx.paraphrases.expressions if e.pos == kind))


def honorific_expression(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.expression``: fixed honorific phrases (お越しください → 来てください,
    恐れ入りますが → すみませんが), longest first."""
    return _fixed(text, ctx, "honorific")


def lexical_expression(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.expression``: fixed difficult expressions, longest first (所定の → 決まった)."""
    return _fixed(text, ctx, "expr")


def _next_surface(ms: list[Morpheme], i: int) -> str:
    return ms[i + 1].surface if i + 1 < len(ms) else ""


def lexical_paraphrase(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.paraphrase``: difficult words → common ones, verbs conjugated like the original
    (記入して → 書いて, 提出しなければ → 出さなければ, 本日 → 今日)."""
    return _lexical(text, ctx, ("suru", "verb", "noun", "adv"))


def lexical_loanword(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.loanword``: katakana replaced where the Japanese word is easier (アポイント → 予約)."""
    return _lexical(text, ctx, ("loanword",))


def _conjugated(
    ctx: RuleContext, easy: str, form: str, ms: list[Morpheme], verb_index: int
) -> tuple[str, int, int]:
    """The replacement in ``form``, where it ends in the text, and how many following words it took.

    A te/ta/ba form takes the following て/た/ば (書いて, 読んで: the particle's voicing follows the
    new verb).
    """
    verb = ms[verb_index]
    out = conjugate_phrase(ctx.analyzer, easy, form)
    if form in ("te", "ta", "ba") and verb_index + 1 < len(ms):
        particle = ms[verb_index + 1]
        return out + particle.surface[1:], particle.end, 1
    return out, verb.end, 0


def _has_kana(text: str) -> bool:
    return any("ぁ" <= c <= "ゟ" for c in text)


def _lexical(text: str, ctx: RuleContext, kinds: tuple[str, ...]) -> tuple[str, bool]:
    ms = ctx.analyzer.tokenize(text)
    edits: list[tuple[int, int, str]] = []
    i = 0
    while i < len(ms):
        m = ms[i]
        forms = (m.surface, m.dictionary_form, m.normalized_form)
        # サ変 noun + する: the replacement verb takes the form of the する.
        if "suru" in kinds and m.pos[0] == "名詞" and i + 1 < len(ms) and ms[i + 1].dictionary_form == "する":
            entry = ctx.paraphrases.lookup(forms, ("suru",))
            suru = ms[i + 1]
            form = form_of(suru.conj_form, _next_surface(ms, i + 1)) if entry else None
            if entry and form:
                try:
                    easy, end, used = _conjugated(ctx, entry.easy, form, ms, i + 1)
                    edits.append((m.start, end, easy))
                    i += 2 + used
                    continue
                except (ValueError, KeyError):
                    pass
        if "suru" in kinds and m.is_suru_noun and i + 1 < len(ms) and ms[i + 1].normalized_form == "出来る":
            # 提出できます → 出せます: the potential of the replacement, in the form of できる.
            entry = ctx.paraphrases.lookup(forms, ("suru",))
            dekiru = ms[i + 1]
            form = form_of(dekiru.conj_form, _next_surface(ms, i + 1)) if entry else None
            if entry and form:
                try:
                    potential = conjugate_phrase(ctx.analyzer, entry.easy, "pot")
                    easy, end, used = _conjugated(ctx, potential, form, ms, i + 1)
                    edits.append((m.start, end, easy))
                    i += 2 + used
                    continue
                except (ValueError, KeyError):
                    pass
        if "verb" in kinds and m.is_verb:
            entry = ctx.paraphrases.lookup(forms[1:], ("verb",))
            form = form_of(m.conj_form, _next_surface(ms, i)) if entry else None
            if entry and form:
                try:
                    easy, end, used = _conjugated(ctx, entry.easy, form, ms, i)
                    edits.append((m.start, end, easy))
                    i += 1 + used
                    continue
                except (ValueError, KeyError):
                    pass
        word_kinds = tuple(k for k in kinds if k in ("noun", "adv", "loanword"))
        if word_kinds and not m.is_verb:
            entry = ctx.paraphrases.lookup((m.surface,), word_kinds, m.reading)
            # 申請者名義 stays: a phrase (申し込む人) cannot stand inside a compound noun.
            in_compound = (
                entry is not None
                and entry.pos == "noun"
                and i + 1 < len(ms)
                and ms[i + 1].pos[0] == "名詞"
                and ms[i + 1].pos[1] != "数詞"
                and _has_kana(entry.easy)
                and not ms[i + 1].surface.startswith(("ご", "お"))
            )
            if entry and not in_compound:
                edits.append((m.start, m.end, entry.easy))
        i += 1
    if not edits:
        return text, False
    for start, end, easy in reversed(edits):
        text = text[:start] + easy + text[end:]
    return text, True


_PERSON_AFTER: Final = ("た", "ない", "たい", "いる", "ある")


def lexical_person(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.person``: 方 meaning a person (かた) → 人: 紛失した方は → なくした人は,
    申請の方 → 申請の人. 〜た方がいい (ほう, "had better") stays."""
    ms = ctx.analyzer.tokenize(text)
    cuts = []
    for i, m in enumerate(ms):
        if m.surface != "方" or m.pos[0] != "名詞" or i == 0:
            continue
        prev, nxt = ms[i - 1], _next_surface(ms, i)
        if nxt == "が" and i + 2 < len(ms) and ms[i + 2].surface in ("いい", "よい", "良い", "ましです"):
            continue
        after_clause = (prev.pos[0] == "助動詞" and prev.surface in _PERSON_AFTER) or (
            prev.is_verb and prev.conj_form.startswith(("連体形", "終止形"))
        )
        after_suru_noun = (
            prev.surface == "の"
            and i >= 2
            and (ms[i - 2].is_suru_noun or ms[i - 2].surface in ("以上", "以下", "未満"))
            and nxt in ("は", "、", "も", "で", "が")
        )
        if after_clause or after_suru_noun:
            cuts.append(m.start)
    for start in reversed(cuts):
        text = text[:start] + "人" + text[start + 1 :]
    return text, bool(cuts)


# --- splitting ---------------------------------------------------------------------------------

_PREFACE_RE: Final = re.compile(
    r"^(?:すみません|申し訳ありません|恐れ入ります|失礼します|お手数です|悪いです|あいにくです)$"
)
_MIN_PART_CHARS: Final = 5


def _polite_end(ctx: RuleContext, clause: str) -> str | None:
    """The clause with its last predicate in です/ます form, or None when it cannot be made so."""
    ms = ctx.analyzer.tokenize(clause)
    if not ms:
        return None
    last = ms[-1]
    head = clause[: last.start]
    if clause.endswith(("ます", "です", "ました", "でした", "ません", "ませんでした")):
        return clause
    if last.pos[0] == "助動詞" and last.dictionary_form in ("ます", "です"):
        return clause
    try:
        if last.is_verb and last.conj_form.startswith(("終止形", "連体形")):
            return head + conjugate_word(last.dictionary_form, last.conj_type, "masu") + "ます"
        if last.surface == "た" and len(ms) >= 2 and ms[-2].is_verb:
            v = ms[-2]
            return clause[: v.start] + conjugate_word(v.dictionary_form, v.conj_type, "masu") + "ました"
        if last.surface == "ない" and len(ms) >= 2 and ms[-2].is_verb:
            v = ms[-2]
            return clause[: v.start] + conjugate_word(v.dictionary_form, v.conj_type, "masu") + "ません"
    except (ValueError, KeyError):
        return None
    if last.surface in ("な", "だ") and last.pos[0] == "助動詞":
        return head + "です"
    if last.pos[0] == "形容詞" and last.conj_form.startswith(("終止形", "連体形")):
        return clause + "です"
    return None


def _parts_ok(a: str, b: str) -> bool:
    return len(a) >= _MIN_PART_CHARS and len(b.rstrip("。！？!?")) >= _MIN_PART_CHARS


def split_node(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``split.node``: 〜ので、〜 → 〜(です/ます)。ですから、〜 (one idea per sentence)."""
    idx = text.find("ので")
    if idx <= 0:
        return text, False
    a, b = text[:idx], text[idx + 2 :].lstrip("、，, ")
    polite = _polite_end(ctx, a)
    if polite is None or not _parts_ok(a, b):
        return text, False
    return f"{polite}。ですから、{b}", True


_GA_RE: Final = re.compile(r"(ます|ません|ました)(が|けれども|けれど|けど)、")


def split_ga(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``split.ga``: 〜ますが、〜 → 〜ます。でも、〜 (a verb clause only; すみませんが stays)."""
    for m in _GA_RE.finditer(text):
        a, b = text[: m.end(1)], text[m.end() :]
        last_clause = re.split(r"[、。]", a)[-1]
        if _PREFACE_RE.match(last_clause) or not _parts_ok(a, b):
            continue
        return f"{a}。でも、{b}", True
    return text, False


def split_te(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``split.te``: 〜て、〜てください → 〜てください。それから、〜てください (same mood in both)."""
    ms = ctx.analyzer.tokenize(text)
    body = text.rstrip("。！？!? ")
    request = body.endswith("ください")
    statement = body.endswith("ます")
    if not (request or statement):
        return text, False
    for i in range(1, len(ms) - 2):
        te, comma = ms[i], ms[i + 1]
        if te.surface not in ("て", "で") or te.pos[1] != "接続助詞":
            continue
        after_kara = comma.surface == "から" and i + 2 < len(ms) and ms[i + 2].surface == "、"
        if comma.surface != "、" and not after_kara:
            continue
        verb = ms[i - 1]
        if not verb.is_verb:
            continue
        a_end = te.end
        b_start = (ms[i + 2] if after_kara else comma).end
        a, b = text[:a_end], text[b_start:]
        if not _parts_ok(a, b):
            continue
        if request:
            first = a + "ください"
        else:
            try:
                first = (
                    text[: verb.start] + conjugate_word(verb.dictionary_form, verb.conj_type, "masu") + "ます"
                )
            except (ValueError, KeyError):
                continue
        return f"{first}。それから、{b}", True
    return text, False


#: The rules in the order they run on a sentence: (id, function).
WORD_RULES: Final[tuple[tuple[str, RuleFn], ...]] = (
    ("date.era", date_era),
    ("number.digits", number_digits),
    ("time.ampm", time_ampm),
    ("honorific.expression", honorific_expression),
    ("lexical.expression", lexical_expression),
    ("honorific.request", honorific_request),
    ("honorific.go_suru", honorific_go_suru),
    ("honorific.o_verb", honorific_o_verb),
    ("honorific.gozaimasu", honorific_gozaimasu),
    ("honorific.humble", honorific_humble),
    ("honorific.question", honorific_question),
    ("honorific.go_prefix", honorific_go_prefix),
    ("honorific.mashitara", honorific_mashitara),
    ("negation.double", negation_double),
    ("lexical.paraphrase", lexical_paraphrase),
    ("lexical.person", lexical_person),
    ("lexical.loanword", lexical_loanword),
)

SPLIT_RULES: Final[tuple[tuple[str, RuleFn], ...]] = (
    ("split.node", split_node),
    ("split.ga", split_ga),
    ("split.te", split_te),
)

ALL_RULE_IDS: Final = (*(rid for rid, _ in WORD_RULES + SPLIT_RULES), "term.explain")

__all__ = ["ALL_RULE_IDS", "SPLIT_RULES", "WORD_RULES", "RuleContext", "has_conditional", "unsafe_reason"]
