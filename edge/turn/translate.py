"""The translation stage of a turn: MT with the glossary enforced, and the fallbacks when a pack is missing.

Routes, in order (a missing MT pack is not an error; the turn still ends normally):

- **Direct or pivot MT** (``edge.translate.router.MtRouter``): ``mt_engine`` names the engine
  (``<engine>-pivot`` through English); with back-translation on, the translation is translated back.
  A crash of the MT runtime shows the transcript only (``mt_failed``).
- **One real leg through English**: no source→English pack but an English→target one: Whisper translates
  the speech into English and MT the English (``whisper-translate+<engine>``); a source→English pack
  only: the English is shown to the clerk (``shown_language``), not spoken.
- **No MT pack, target English**: Whisper translates the speech itself (``whisper-translate``).
- **No MT pack, other target**: the transcript only (``target_text == ""``, ``mt_engine == "none"``) and
  a notice naming the pack to install (``MtRouter.missing_hint``).

A translation that repeats a clause is shown flagged and never spoken ("could not translate reliably").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.errors import EdgeError, MtUnavailable
from edge.events import TranslationReady
from edge.speech.asr_types import Transcriber
from edge.speech.repetition import find_repetition
from edge.translate.router import PIVOT_LANGUAGE
from edge.turn.result import TurnContext, TurnResult, log_engine_failure
from edge.turn.transcribe import whisper_english

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class MtStage:
    """MT for one turn, with the engines the pipeline holds at that moment.

    Attributes:
        router: An ``edge.translate.router.MtRouter`` (None: no MT packs).
        transcriber: The recogniser, for Whisper's own speech translation (None: text turns only).
        back_translation: Translate each result back into the source language.
        pre_edit: Rewrites the text before MT (Easy Japanese pre-editing; None: MT the text as said).
    """

    router: Any | None
    transcriber: Transcriber | None
    back_translation: bool = False
    pre_edit: Callable[[str], str] | None = None

    def run(self, ctx: TurnContext) -> None:
        """Fill ``ctx.result`` with the best translation there is (see the module docstring)."""
        result = ctx.result
        source, target = result.source_language, result.target_language
        router = self.router
        if router is not None and router.can_translate(source, target) and self._direct(ctx):
            return
        if router is not None and self._one_leg(ctx):
            return
        hint = missing_mt_hint(router, source, target)
        if target == "en" and ctx.speech is not None and self.transcriber is not None:
            english = whisper_english(self.transcriber, ctx.speech, source, ctx.streamed)
            result.target_text, result.mt_engine = english.text, "whisper-translate"
            ctx.notice(f"{hint}; using Whisper's own speech translation", "whisper_translate")
            return
        result.target_text, result.mt_engine = "", "none"
        ctx.notice(f"{hint}; showing the transcript only", "mt_missing")

    def _direct(self, ctx: TurnContext) -> bool:
        """MT along the router's route (False: MT is unavailable after all, fall back)."""
        result, router = ctx.result, self.router
        source, target = result.source_language, result.target_language
        mt_text = result.source_text
        if self.pre_edit is not None:
            mt_text = self.pre_edit(mt_text)
            result.mt_input = mt_text if mt_text != result.source_text else None
        try:
            speculative = ctx.streamed.translation(mt_text, source, target) if ctx.streamed else None
            translation = speculative or router.translate(mt_text, source, target)
        except MtUnavailable as exc:
            _LOGGER.warning("MT unavailable: %s", exc)
            return False
        except Exception as exc:  # a crash of the MT runtime: show the transcript, keep the session
            log_engine_failure("MT", exc)
            result.target_text, result.mt_engine = "", "none"
            text = "the translation failed for this turn (engine error); showing the transcript only"
            ctx.notice(text, "mt_failed")
            return True
        apply_translation(result, translation)  # maybe_cut travels in TranslationReady
        if self.back_translation and router.can_translate(target, source):
            try:
                result.back_translation = router.translate(translation.text, target, source).text
            except Exception as exc:  # the check is an aid; the translation stands
                log_engine_failure("back-translation", exc)
        return True

    def _one_leg(self, ctx: TurnContext) -> bool:
        """One real MT leg through English when the direct route is missing (True: result filled).

        - speech, no source→en pack but an en→target pack: Whisper translates the speech into English
          (its own speech translation), the MT pack translates the English (glossary enforced on it);
        - a source→en pack but no en→target pack: the English is shown (``shown_language``), not spoken.
        """
        result, router, speech = ctx.result, self.router, ctx.speech
        source, target = result.source_language, result.target_language
        pivot = PIVOT_LANGUAGE
        if pivot in (source, target):
            return False
        if speech is not None and self.transcriber is not None and router.can_translate(pivot, target):
            english = whisper_english(self.transcriber, speech, source).text
            if not english.strip():
                return False
            translation = router.translate(english, pivot, target)
            apply_translation(result, translation)
            result.mt_engine = f"whisper-translate+{translation.engine}"
            result.mt_input = english
            leg = missing_mt_hint(router, source, pivot)
            text = f"{source}→{pivot} by Whisper's speech translation ({leg}); {pivot}→{target} by MT"
            ctx.notice(text, "mt_partial")
            return True
        if router.can_translate(source, pivot):
            translation = router.translate(result.source_text, source, pivot)
            apply_translation(result, translation)
            result.shown_language = pivot
            leg = missing_mt_hint(router, pivot, target)
            ctx.notice(f"showing the English translation ({leg})", "mt_partial")
            return True
        return False


def apply_translation(result: TurnResult, translation: Any) -> None:
    """Copy an ``edge.translate.router.Translation`` into the result."""
    result.target_text = translation.text
    result.mt_engine = translation.engine
    result.mt_packs = list(translation.pack_ids)
    result.terms_applied = list(translation.terms_applied)
    result.terms_fallback = list(translation.terms_fallback)
    result.flagged = bool(translation.flagged)
    result.maybe_cut = bool(getattr(translation, "maybe_cut", False))
    result.glossary_version = translation.glossary_version


def refuse_loop(ctx: TurnContext, loop_guard: bool) -> None:
    """A translation that repeats a clause is never spoken: keep it off the speaker, say why."""
    result = ctx.result
    loop = find_repetition(result.target_text) if result.target_text and loop_guard else None
    if loop is None:
        return
    result.flagged = True
    result.repetition = {"where": "translation", **loop.to_dict()}
    text = "could not translate reliably (the translation repeats itself); shown flagged, not spoken"
    ctx.notice(text, "unreliable_translation")


def missing_mt_hint(router: Any | None, source: str, target: str) -> str:
    """What to install for MT from ``source`` to ``target``."""
    if router is not None:
        try:
            return str(router.missing_hint(source, target))
        except EdgeError:
            pass
    return f"no MT pack for {source}→{target}: run `madoguchi models install m2m100-418m`"


def translation_ready(result: TurnResult) -> TranslationReady:
    """The event that shows the translation (before it is spoken)."""
    return TranslationReady(
        text=result.target_text,
        source_language=result.source_language,
        target_language=result.target_language,
        engine=result.mt_engine,
        terms_applied=list(result.terms_applied),
        flagged=result.flagged,
        back_translation=result.back_translation,
        ruby_html=result.ruby_html,
        verified_phrase=result.verified_phrase,
        maybe_cut=result.maybe_cut,
    )
