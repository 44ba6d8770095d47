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

from typing import Final

from edge.easy_ja.rules.context import PLACEHOLDER_BASE, RuleContext, RuleFn
from edge.easy_ja.rules.dates import date_era, number_digits, time_ampm
from edge.easy_ja.rules.guards import has_conditional, unsafe_reason
from edge.easy_ja.rules.honorific import (
    honorific_go_prefix,
    honorific_go_suru,
    honorific_gozaimasu,
    honorific_humble,
    honorific_mashitara,
    honorific_o_verb,
    honorific_question,
    honorific_request,
    negation_double,
)
from edge.easy_ja.rules.lexical import (
    honorific_expression,
    lexical_expression,
    lexical_loanword,
    lexical_paraphrase,
    lexical_person,
)
from edge.easy_ja.rules.split import split_ga, split_node, split_te

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

__all__ = [
    "ALL_RULE_IDS",
    "PLACEHOLDER_BASE",
    "SPLIT_RULES",
    "WORD_RULES",
    "RuleContext",
    "has_conditional",
    "unsafe_reason",
]
