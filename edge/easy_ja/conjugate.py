"""Verb conjugation for paraphrases: a replacement verb takes the form of the word it replaces.

The replaced word's form comes from Sudachi's inflection info (conjugation form of the verb or of
the する after a サ変 noun); the replacement's conjugation type comes from analysing its dictionary
form. Only the forms the rules need are generated.
"""

from __future__ import annotations

from typing import Final

from edge.easy_ja.analyzer import Analyzer

#: Godan ending → (i-row, a-row, e-row, o-row, te-form ending).
_GODAN: Final[dict[str, tuple[str, str, str, str, str]]] = {
    "う": ("い", "わ", "え", "お", "って"),
    "く": ("き", "か", "け", "こ", "いて"),
    "ぐ": ("ぎ", "が", "げ", "ご", "いで"),
    "す": ("し", "さ", "せ", "そ", "して"),
    "つ": ("ち", "た", "て", "と", "って"),
    "ぬ": ("に", "な", "ね", "の", "んで"),
    "ぶ": ("び", "ば", "べ", "ぼ", "んで"),
    "む": ("み", "ま", "め", "も", "んで"),
    "る": ("り", "ら", "れ", "ろ", "って"),
}

FORMS: Final = ("dict", "masu", "te", "ta", "nai", "ba", "vol", "pot")


#: サ変 (〜する) endings after the stem.
_SURU: Final[dict[str, str]] = {
    "masu": "し",
    "te": "して",
    "ta": "した",
    "nai": "し",
    "ba": "すれば",
    "vol": "しよう",
    "pot": "できる",
}

#: 一段 endings after the stem (食べ|る).
_ICHIDAN: Final[dict[str, str]] = {
    "masu": "",
    "te": "て",
    "ta": "た",
    "nai": "",
    "ba": "れば",
    "vol": "よう",
    "pot": "られる",
}


def conjugate_word(dictionary_form: str, conj_type: str, form: str) -> str:
    """Conjugate one verb given its dictionary form and Sudachi conjugation type.

    ``form``: dict (書く), masu (書き, the stem before ます), te (書いて), ta (書いた),
    nai (書か, the stem before ない), ba (書けば), vol (書こう), pot (書ける, the potential verb).
    """
    if form == "dict":
        return dictionary_form
    if dictionary_form in ("ある", "有る") and form == "nai":
        raise ValueError("ある has no regular negative stem")
    if conj_type.startswith("サ行変格"):
        return dictionary_form[:-2] + _SURU[form]  # 〜する
    if conj_type.startswith("カ行変格"):
        return dictionary_form[:-2] + _kuru_ending(dictionary_form, form)  # 来る / くる
    if conj_type.startswith(("上一段", "下一段")):
        return dictionary_form[:-1] + _ICHIDAN[form]
    if conj_type.startswith("五段"):
        return dictionary_form[:-1] + _godan_ending(dictionary_form, form)
    raise ValueError(f"cannot conjugate {dictionary_form!r} ({conj_type})")


def _kuru_ending(dictionary_form: str, form: str) -> str:
    """来る in ``form``, in kanji or in kana like the dictionary form."""
    kanji = dictionary_form.endswith("来る")
    ki, ko = ("来", "来") if kanji else ("き", "こ")
    return {
        "masu": ki,
        "te": ki + "て",
        "ta": ki + "た",
        "nai": ko,
        "ba": "来れば" if kanji else "くれば",
        "vol": ko + "よう",
        "pot": ko + "られる",
    }[form]


def _godan_ending(dictionary_form: str, form: str) -> str:
    """The ending of a 五段 verb in ``form`` (行く: 行って, not 行いて)."""
    i_row, a_row, e_row, o_row, te = _GODAN[dictionary_form[-1]]
    if dictionary_form.endswith(("行く", "いく")) and form in ("te", "ta"):
        te = "って"
    ta = te[:-1] + ("だ" if te.endswith("で") else "た")
    return {
        "masu": i_row,
        "te": te,
        "ta": ta,
        "nai": a_row,
        "ba": e_row + "ば",
        "vol": o_row + "う",
        "pot": e_row + "る",
    }[form]


def conjugate_phrase(analyzer: Analyzer, phrase: str, form: str) -> str:
    """Conjugate the last verb of ``phrase`` (e.g. 持ってくる → 持ってきて); others stay."""
    if form == "dict":
        return phrase
    morphemes = analyzer.tokenize(phrase)
    if not morphemes or not (
        morphemes[-1].is_verb
        or (morphemes[-1].pos[0] == "助動詞" and morphemes[-1].conj_type.startswith(("下一段", "上一段")))
    ):
        raise ValueError(f"{phrase!r} does not end in a verb")
    last = morphemes[-1]
    if last.surface != last.dictionary_form:
        raise ValueError(f"{phrase!r} is not in dictionary form")
    return phrase[: last.start] + conjugate_word(last.dictionary_form, last.conj_type, form)


def form_of(conj_form: str, next_surface: str) -> str | None:
    """Which :data:`FORMS` entry a verb (or する) takes, from its Sudachi form and the next word.

    Returns None for forms the rules do not regenerate (passive, causative, imperative ...).
    """
    if conj_form.startswith("終止形") or conj_form.startswith("連体形"):
        return "dict"
    if conj_form.startswith("連用形"):
        if next_surface in ("て", "で", "ては", "ても"):
            return "te"
        if next_surface in ("た", "だ", "たら", "たり"):
            return "ta"
        if next_surface in ("、", ","):  # 連用中止: 書き、
            return "masu"
        if next_surface.startswith(("ます", "まし", "ませ", "ながら", "たい", "やすい", "にくい")):
            return "masu"
        return None
    if conj_form.startswith("未然形"):
        if next_surface in ("ない", "なく", "なかっ", "なけれ", "ず", "ずに", "ぬ", "ん"):
            return "nai"
        return None
    if conj_form.startswith("意志推量形"):
        return "vol"
    if conj_form.startswith("仮定形") and next_surface == "ば":
        return "ba"
    return None
