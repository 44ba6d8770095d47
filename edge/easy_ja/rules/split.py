"""Splitting long sentences: 〜ので、/〜ますが、/〜て、〜てください into short ones."""

from __future__ import annotations

import re
from typing import Final

from edge.easy_ja.conjugate import conjugate_word
from edge.easy_ja.rules.context import RuleContext

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
