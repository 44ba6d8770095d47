"""Easy Japanese (やさしい日本語): rewrite the clerk's Japanese and add furigana, offline and explainably.

``EasyJapanese`` loads the analyser, the paraphrase dictionary and the glossary once. ``rewrite``
splits the text into sentences and, for each one:

1. replaces glossary terms by placeholders, so no rule can touch an official term;
2. leaves the sentence exactly as it was, marked ``unsimplified``, when a rule could change its
   meaning (quoted speech, negation scope, a condition on a negation — see ``rules.unsafe_reason``);
3. otherwise runs the word rules (dates, honorifics, double negatives, paraphrases) and, unless the
   sentence states a condition, the splitting rules;
4. puts the terms back as written (a kana-only form becomes the official headword) with the glossary's
   short easy explanation in brackets after the first occurrence: 住民票（すんでいる ところを ...）.

The result lists the rule ids that fired, per sentence and overall, so a reviewer can check every
change. Nothing is invented: every word of the output comes from the input, the paraphrase
dictionary or the glossary.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Final

from edge.easy_ja.analyzer import Analyzer, shared_analyzer
from edge.easy_ja.furigana import Furigana, FuriganaResult, Segment
from edge.easy_ja.paraphrases import ParaphraseDictionary, bundled_paraphrases
from edge.easy_ja.rules import (
    PLACEHOLDER_BASE,
    SPLIT_RULES,
    WORD_RULES,
    RuleContext,
    has_conditional,
    unsafe_reason,
)

_LOGGER = logging.getLogger(__name__)

_SENTENCE_RE: Final = re.compile(r"[^。！？!?\n]+[。！？!?]*|[。！？!?]+")
_MAX_SPLITS: Final = 4


@dataclass(frozen=True)
class EasySentence:
    """One input sentence and what became of it (one or more short sentences)."""

    original: str
    text: str
    rules_fired: tuple[str, ...] = ()
    unsimplified: bool = False
    reason: str | None = None
    """Why the sentence was left as it is: quoted_speech, negation_scope or conditional_negation."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "original": self.original,
            "text": self.text,
            "rules_fired": list(self.rules_fired),
            "unsimplified": self.unsimplified,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TermNote:
    """A glossary term kept as the official word, with its reading and easy explanation."""

    term_id: str
    ja: str
    reading: str
    easy_ja: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"term_id": self.term_id, "ja": self.ja, "reading": self.reading, "easy_ja": self.easy_ja}


@dataclass(frozen=True)
class EasyResult:
    """Easy Japanese with furigana, and how it was made."""

    text: str
    sentences: tuple[EasySentence, ...]
    ruby_html: str
    """Escaped HTML with ``<ruby>`` over every kanji: safe to insert as HTML."""
    bracketed: str
    """``漢字[かんじ]`` form for a terminal."""
    rules_fired: tuple[str, ...]
    """Ids of the rules that changed something, in first-fired order."""
    unsimplified: bool
    """True when at least one sentence was left as it was (see ``EasySentence.reason``)."""
    terms: tuple[TermNote, ...] = ()
    source_text: str = ""
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "text": self.text,
            "source_text": self.source_text,
            "ruby_html": self.ruby_html,
            "bracketed": self.bracketed,
            "rules_fired": list(self.rules_fired),
            "unsimplified": self.unsimplified,
            "sentences": [s.to_dict() for s in self.sentences],
            "terms": [t.to_dict() for t in self.terms],
        }


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with their end punctuation (newlines end a sentence too)."""
    return [s.strip() for s in _SENTENCE_RE.findall(text) if s.strip()]


class EasyJapanese:
    """Rewrites Japanese into Easy Japanese with furigana; everything is loaded once.

    Args:
        glossary: the glossary whose terms stay official and explained (default: the bundled one);
            ``False`` for none.
        paraphrases: the paraphrase dictionary (default: the bundled one).
        analyzer: the Sudachi analyser (default: the process-wide one).
    """

    def __init__(
        self,
        glossary: Any | None = None,
        paraphrases: ParaphraseDictionary | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        if glossary is None:
            from glossary import bundled_glossary

            glossary = bundled_glossary()
        self._glossary = glossary or None
        self._analyzer = analyzer or shared_analyzer()
        self._ctx = RuleContext(self._analyzer, paraphrases or bundled_paraphrases())
        self._furigana = Furigana(self._analyzer, self._glossary)
        self._matcher = None
        if self._glossary is not None:
            from glossary import TermMatcher

            self._matcher = TermMatcher(self._glossary)

    @property
    def analyzer(self) -> Analyzer:
        """The morphological analyser this rewriter uses."""
        return self._analyzer

    def furigana(self, text: str, *, use_glossary: bool = True) -> FuriganaResult:
        """Readings over every kanji of ``text`` (glossary readings override the analyser's)."""
        return self._furigana.annotate(text, use_glossary=use_glossary)

    def rewrite(self, text: str, *, explain_terms: bool = True) -> EasyResult:
        """Rewrite ``text`` into Easy Japanese (see the module docstring for the steps)."""
        sentences: list[EasySentence] = []
        notes: dict[str, TermNote] = {}
        for original in split_sentences(text):
            sentences.append(self._sentence(original, notes, explain_terms))
        easy = "".join(s.text for s in sentences)
        fired: list[str] = []
        for s in sentences:
            fired.extend(r for r in s.rules_fired if r not in fired)
        ruby = self.furigana(easy)
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("easy ja: %d sentences, rules %s", len(sentences), fired)
        return EasyResult(
            text=easy,
            sentences=tuple(sentences),
            ruby_html=ruby.ruby_html,
            bracketed=ruby.bracketed,
            rules_fired=tuple(fired),
            unsimplified=any(s.unsimplified for s in sentences),
            terms=tuple(notes.values()),
            source_text=text,
            segments=ruby.segments,
        )

    def annotate_only(self, text: str, *, rule: str = "none") -> EasyResult:
        """Furigana without rewriting (``--no-rewrite``, or a hand-written phrase-book easy_ja)."""
        ruby = self.furigana(text)
        sentences = tuple(
            EasySentence(s, s, (rule,) if rule != "none" else ()) for s in split_sentences(text)
        )
        return EasyResult(
            text=text,
            sentences=sentences,
            ruby_html=ruby.ruby_html,
            bracketed=ruby.bracketed,
            rules_fired=(rule,) if rule != "none" else (),
            unsimplified=False,
            terms=tuple(self._term_notes(text)),
            source_text=text,
            segments=ruby.segments,
        )

    def phrase(self, easy_ja: str) -> EasyResult:
        """A phrase-book sentence: its hand-written easy_ja, with furigana (rule ``phrasebook``)."""
        return self.annotate_only(easy_ja, rule="phrasebook")

    def pre_edit(self, text: str) -> str:
        """The simplified Japanese to give MT instead of the original (no bracketed explanations:
        terms stay as written, so glossary enforcement still finds them)."""
        return self.rewrite(text, explain_terms=False).text

    # --- internals -----------------------------------------------------------------------------

    def _term_notes(self, text: str) -> list[TermNote]:
        if self._matcher is None:
            return []
        seen: dict[str, TermNote] = {}
        for m in self._matcher.find(text):
            t = self._glossary.term(m.term_id)
            seen.setdefault(t.id, TermNote(t.id, t.ja, t.reading, t.easy_ja))
        return list(seen.values())

    def _protect(self, sentence: str) -> tuple[str, list[tuple[str, str]]]:
        """Terms → placeholders; returns the text and (term_id, written form) per placeholder."""
        if self._matcher is None:
            return sentence, []
        slots: list[tuple[str, str]] = []
        out, pos = [], 0
        for m in self._matcher.find(sentence):
            term = self._glossary.term(m.term_id)
            written = term.ja if m.via in ("reading", "generated") else m.surface
            out.append(sentence[pos : m.start])
            out.append(chr(PLACEHOLDER_BASE + len(slots)))
            slots.append((m.term_id, written))
            pos = m.end
        out.append(sentence[pos:])
        return "".join(out), slots

    def _restore(
        self, text: str, slots: list[tuple[str, str]], notes: dict[str, TermNote], explain: bool
    ) -> tuple[str, bool]:
        explained = False
        for i, (term_id, written) in enumerate(slots):
            term = self._glossary.term(term_id)
            replacement = written
            if explain and term.easy_ja and term_id not in notes:
                replacement = f"{written}（{term.easy_ja}）"
                explained = True
            notes.setdefault(term_id, TermNote(term.id, term.ja, term.reading, term.easy_ja))
            text = text.replace(chr(PLACEHOLDER_BASE + i), replacement, 1)
        return text, explained

    def _sentence(self, original: str, notes: dict[str, TermNote], explain: bool) -> EasySentence:
        protected, slots = self._protect(original)
        reason = unsafe_reason(protected)
        if reason is not None:
            for term_id, _ in slots:
                t = self._glossary.term(term_id)
                notes.setdefault(term_id, TermNote(t.id, t.ja, t.reading, t.easy_ja))
            return EasySentence(original, original, (), True, reason)
        fired: list[str] = []
        text = protected
        for rule_id, rule in WORD_RULES:
            text, changed = rule(text, self._ctx)
            if changed:
                fired.append(rule_id)
        if not has_conditional(text):
            text = self._split(text, fired)
        text, explained = self._restore(text, slots, notes, explain)
        if explained:
            fired.append("term.explain")
        return EasySentence(original, text, tuple(fired))

    def _split(self, text: str, fired: list[str]) -> str:
        end = ""
        m = re.search(r"[。！？!?]+$", text)
        if m:
            text, end = text[: m.start()], m.group(0)
        pieces = [text]
        for _ in range(_MAX_SPLITS):
            last = pieces[-1]
            for rule_id, rule in SPLIT_RULES:
                new, changed = rule(last, self._ctx)
                if changed:
                    head, _, tail = new.partition("。")
                    pieces[-1:] = [head, tail]
                    if rule_id not in fired:
                        fired.append(rule_id)
                    break
            else:
                break
        return "。".join(pieces) + (end or ("。" if len(pieces) > 1 else ""))
