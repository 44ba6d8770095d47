"""Words: fixed expressions, paraphrases (conjugated), loanwords and 方 → 人."""

from __future__ import annotations

from typing import Final

from edge.easy_ja.analyzer import Morpheme
from edge.easy_ja.conjugate import conjugate_phrase, form_of
from edge.easy_ja.rules.context import RuleContext, next_surface, replace_all


def _fixed(text: str, ctx: RuleContext, kind: str) -> tuple[str, bool]:
    return replace_all(text, ((e.word, e.easy) for e in ctx.paraphrases.expressions if e.pos == kind))


def honorific_expression(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``honorific.expression``: fixed honorific phrases (お越しください → 来てください,
    恐れ入りますが → すみませんが), longest first."""
    return _fixed(text, ctx, "honorific")


def lexical_expression(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.expression``: fixed difficult expressions, longest first (所定の → 決まった)."""
    return _fixed(text, ctx, "expr")


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


_Edit = tuple[int, int, str]
"""Replace ``text[start:end]`` with the easy word."""


def _lexical(text: str, ctx: RuleContext, kinds: tuple[str, ...]) -> tuple[str, bool]:
    ms = ctx.analyzer.tokenize(text)
    edits: list[_Edit] = []
    i = 0
    while i < len(ms):
        found = _verb_paraphrase(ctx, ms, i, kinds)
        if found is not None:
            edit, taken = found
            edits.append(edit)
            i += taken
            continue
        edit = _word_paraphrase(ctx, ms, i, kinds)
        if edit is not None:
            edits.append(edit)
        i += 1
    if not edits:
        return text, False
    for start, end, easy in reversed(edits):
        text = text[:start] + easy + text[end:]
    return text, True


def _verb_paraphrase(
    ctx: RuleContext, ms: list[Morpheme], i: int, kinds: tuple[str, ...]
) -> tuple[_Edit, int] | None:
    """A paraphrased verb starting at word ``i`` and how many words it replaces, or None.

    サ変 noun + する: the replacement verb takes the form of the する; サ変 noun + できる: the potential
    of the replacement (提出できます → 出せます); a verb: the replacement in the verb's form.
    """
    m = ms[i]
    forms = (m.surface, m.dictionary_form, m.normalized_form)
    following = ms[i + 1] if i + 1 < len(ms) else None
    if "suru" in kinds and following is not None:
        if m.pos[0] == "名詞" and following.dictionary_form == "する":
            entry = ctx.paraphrases.lookup(forms, ("suru",))
            found = _verb_edit(ctx, entry.easy, ms, i, i + 1) if entry else None
            if found is not None:
                return found
        if m.is_suru_noun and following.normalized_form == "出来る":
            entry = ctx.paraphrases.lookup(forms, ("suru",))
            found = _verb_edit(ctx, entry.easy, ms, i, i + 1, potential=True) if entry else None
            if found is not None:
                return found
    if "verb" in kinds and m.is_verb:
        entry = ctx.paraphrases.lookup(forms[1:], ("verb",))
        return _verb_edit(ctx, entry.easy, ms, i, i) if entry else None
    return None


def _verb_edit(
    ctx: RuleContext,
    easy: str,
    ms: list[Morpheme],
    start: int,
    verb_index: int,
    *,
    potential: bool = False,
) -> tuple[_Edit, int] | None:
    """Words ``start``..``verb_index`` replaced by ``easy`` in the verb's form (None: it has none)."""
    form = form_of(ms[verb_index].conj_form, next_surface(ms, verb_index))
    if not form:
        return None
    try:
        if potential:
            easy = conjugate_phrase(ctx.analyzer, easy, "pot")
        out, end, used = _conjugated(ctx, easy, form, ms, verb_index)
    except (ValueError, KeyError):
        return None
    return (ms[start].start, end, out), verb_index - start + 1 + used


def _word_paraphrase(ctx: RuleContext, ms: list[Morpheme], i: int, kinds: tuple[str, ...]) -> _Edit | None:
    """A noun, adverb or loanword at word ``i`` replaced by its easy word, or None."""
    m = ms[i]
    word_kinds = tuple(k for k in kinds if k in ("noun", "adv", "loanword"))
    if not word_kinds or m.is_verb:
        return None
    entry = ctx.paraphrases.lookup((m.surface,), word_kinds, m.reading)
    if entry is None:
        return None
    # 申請者名義 stays: a phrase (申し込む人) cannot stand inside a compound noun.
    in_compound = (
        entry.pos == "noun"
        and i + 1 < len(ms)
        and ms[i + 1].pos[0] == "名詞"
        and ms[i + 1].pos[1] != "数詞"
        and _has_kana(entry.easy)
        and not ms[i + 1].surface.startswith(("ご", "お"))
    )
    return None if in_compound else (m.start, m.end, entry.easy)


_PERSON_AFTER: Final = ("た", "ない", "たい", "いる", "ある")


def lexical_person(text: str, ctx: RuleContext) -> tuple[str, bool]:
    """``lexical.person``: 方 meaning a person (かた) → 人: 紛失した方は → なくした人は,
    申請の方 → 申請の人. 〜た方がいい (ほう, "had better") stays."""
    ms = ctx.analyzer.tokenize(text)
    cuts = []
    for i, m in enumerate(ms):
        if m.surface != "方" or m.pos[0] != "名詞" or i == 0:
            continue
        prev, nxt = ms[i - 1], next_surface(ms, i)
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
