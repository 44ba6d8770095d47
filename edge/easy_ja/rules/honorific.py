"""Honorific and humble forms → plain です/ます, and double negatives → a plain request."""

from __future__ import annotations

import itertools
import re
from typing import Final

from edge.easy_ja.conjugate import conjugate_word, form_of
from edge.easy_ja.rules.context import RuleContext, next_surface, replace_all

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
            form = form_of(naru.conj_form, next_surface(ms, i + 3))
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
            form = form_of(tail.conj_form, next_surface(ms, i + 2))
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
    return replace_all(text, _GOZAIMASU)


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
    return replace_all(text, _HUMBLE)


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
    return replace_all(text, _QUESTION)


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
