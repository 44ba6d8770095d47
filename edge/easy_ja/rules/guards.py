"""Guards: sentences the rules must leave as they are, or must not split."""

from __future__ import annotations

import re
from typing import Final

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
