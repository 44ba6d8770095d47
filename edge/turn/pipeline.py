"""One conversation turn as a small pipeline of stages: audio in → text → terms → translation → speech out.

``madoguchi translate``, the live counter and the benchmarks all run turns through ``TurnPipeline``.
Engines load once in ``from_settings`` (``edge.turn.load``, warm); ``run_turn`` then does no I/O and
reports progress as events (``edge.events``) through ``on_event``. The stages, each a module of
``edge.turn`` filling the one ``TurnResult`` (``edge.turn.result``):

1. ``transcribe``: silence trimmed, speech recognised (reusing what streaming recognised while the
   speaker spoke); an empty or looping transcript ends the turn there, flagged and not spoken;
2. ``terms``: glossary terms put into a Japanese transcript by reading; a phrase-book sentence gets its
   verified translation instead of MT;
3. ``translate``: MT with the glossary enforced, its fallbacks (pivot, Whisper's own speech translation,
   transcript only) and back-translation; a looping translation is flagged and not spoken. Target
   ``ja-easy`` goes to ``easy`` instead (the clerk's Japanese rewritten, with furigana);
4. ``speak``: the listener's voice, sentence by sentence (the resident's reply is spoken to the clerk
   unless ``EdgeSettings.speak_to_clerk`` is off; no voice: text and a notice).

A missing MT pack or voice is not an error: the turn ends normally, with notices saying what to install.
Audio without speech raises ``NoSpeechError``; an unknown or disabled language ``LanguageError``; a
missing or corrupt ASR model ``EngineUnavailable``; a crashed engine ``EngineFailed`` (the turn is lost,
the session is not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.audio.vad import VadOptions
from edge.config import EdgeSettings
from edge.engines import tune_for_glossary
from edge.errors import EdgeError, EngineFailed, LanguageError
from edge.events import TurnError
from edge.speech.asr import WhisperTranscriber
from edge.speech.asr_types import Transcriber
from edge.speech.term_verify import build_verifier
from edge.speech.tts import ReadingSegment, Synthesizer
from edge.turn import easy, terms, transcribe
from edge.turn.languages import AUTO, check_language
from edge.turn.load import load_engines
from edge.turn.result import EventHandler, TurnContext, TurnResult, ignore, log_engine_failure, ms_since
from edge.turn.speak import speak_translation, spoken_as
from edge.turn.translate import MtStage, refuse_loop, translation_ready
from glossary.languages import COUNTER_LANGUAGES, EASY_JAPANESE, STAFF_LANGUAGE

if TYPE_CHECKING:
    from edge.speech.streaming import StreamedSpeech

_LOGGER = logging.getLogger(__name__)


class TurnPipeline:
    """Runs turns with engines loaded once."""

    def __init__(
        self,
        transcriber: Transcriber | None,
        voices: dict[str, Synthesizer] | None = None,
        mt_router: Any | None = None,
        *,
        languages: Iterable[str] = COUNTER_LANGUAGES,
        vad_options: VadOptions = VadOptions(),
        asr_pack: str | None = None,
        back_translation: bool = False,
        easy_japanese: Any | None = None,
        pre_edit_easy_ja: bool = False,
        corrector: Any | None = None,
        phrase_matcher: Any | None = None,
        levers: Any | None = None,
        verifier: Any | None = None,
        loop_guard: bool = True,
        speak_to_clerk: bool = True,
    ) -> None:
        """Assemble a pipeline from loaded engines (``from_settings`` does the loading).

        Args:
            transcriber: The recogniser (None: text turns only).
            voices: One voice per language.
            mt_router: An ``edge.translate.router.MtRouter`` (None: no MT packs).
            languages: Enabled counter languages (``auto`` chooses among them).
            vad_options: Trimming of silence before ASR.
            asr_pack: Pack id of the recogniser, for the result.
            back_translation: Translate each result back into the source language.
            easy_japanese: An ``edge.easy_ja.EasyJapanese`` (None: loaded on first use).
            pre_edit_easy_ja: Translate the simplified Japanese instead of the clerk's original.
            corrector: An ``edge.speech.terms.ReadingCorrector`` for Japanese transcripts (None: off).
            phrase_matcher: An ``edge.speech.phrase_match.PhraseMatcher`` (None: no spoken phrase book).
            levers: ``edge.speech.terms.TermLevers`` that rebuild these when the glossary changes.
            verifier: An ``edge.speech.term_verify.TermVerifier`` (None: no acoustic verification).
            loop_guard: Refuse to speak a translation that repeats itself (off only for timing runs whose
                MT is an untrained stand-in producing random text).
            speak_to_clerk: Speak translations into Japanese (the resident's replies) to the clerk.
        """
        self.transcriber = transcriber
        self.voices = dict(voices or {})
        self.mt_router = mt_router
        self.languages = tuple(languages)
        self.vad_options = vad_options
        self.asr_pack = asr_pack
        self.back_translation = back_translation
        self.easy_japanese = easy_japanese
        self.pre_edit_easy_ja = pre_edit_easy_ja
        self.corrector = corrector
        self.phrase_matcher = phrase_matcher
        self.levers = levers
        self.verifier = verifier
        self.loop_guard = loop_guard
        self.speak_to_clerk = speak_to_clerk

    @classmethod
    def from_settings(
        cls,
        settings: EdgeSettings,
        *,
        pairs: Iterable[tuple[str, str]] | None = None,
        warm: bool = True,
        transcriber: WhisperTranscriber | None = None,
    ) -> TurnPipeline:
        """Load ASR, the voices and the MT router of ``settings`` once (``edge.turn.load``).

        Args:
            settings: Device settings.
            pairs: Language pairs to preload MT and voices for (default: ja ⇄ every enabled language);
                a pair with source ``auto`` loads the target's voice only.
            warm: Run each engine once so the first turn is as fast as the next.
            transcriber: The settings' Whisper model already loaded in this process (shared, not loaded
                again; decoded with the settings' options, on the threads it was loaded with).

        Raises:
            EngineUnavailable: the ASR model is missing or corrupt.
            ValueError: ``transcriber`` is another model than the one ``settings`` names.
        """
        loaded = load_engines(settings, pairs=pairs, warm=warm, transcriber=transcriber)
        return cls(
            loaded.transcriber,
            loaded.voices,
            loaded.router,
            languages=settings.languages,
            asr_pack=loaded.asr_pack,
            back_translation=settings.back_translation,
            easy_japanese=loaded.easy_japanese,
            pre_edit_easy_ja=settings.pre_edit_easy_ja,
            corrector=loaded.corrector,
            phrase_matcher=loaded.phrase_matcher,
            levers=loaded.levers,
            verifier=loaded.verifier,
            speak_to_clerk=settings.speak_to_clerk,
        )

    # -- public ----------------------------------------------------------------------------------------

    def run_turn(
        self,
        audio: np.ndarray,
        source: str,
        target: str,
        on_event: EventHandler | None = None,
        *,
        speak: bool = True,
        streamed: StreamedSpeech | None = None,
    ) -> TurnResult:
        """Translate one spoken utterance.

        Args:
            audio: 16 kHz mono float32 samples.
            source: Spoken language, or ``"auto"`` to detect it among the enabled languages.
            target: Language of the listener.
            on_event: Called with each event as the turn progresses (same thread).
            speak: Synthesise the translation (False: text only, e.g. the counter's "confirm before
                speaking" mode speaks later with ``speak_text``).
            streamed: The tentative work done while the speaker spoke (``edge.speech.streaming``): the
                final transcript reuses it or decodes with its stable prefix; speculative translations
                are reused when the final text is the same.

        Returns:
            The ``TurnResult``.

        Raises:
            AudioInputError / NoSpeechError, LanguageError, EngineUnavailable, EngineFailed.
        """
        emit = on_event or ignore
        with _reported(emit):
            return self._run_turn(audio, source, target, emit, speak, streamed)

    def translate_text(
        self,
        text: str,
        source: str,
        target: str,
        on_event: EventHandler | None = None,
        *,
        speak: bool = True,
    ) -> TurnResult:
        """Translate typed or edited text (no ASR), then speak it like a spoken turn."""
        emit = on_event or ignore
        with _reported(emit):
            started = time.perf_counter()
            source = check_language(source, "source", self.languages, allow_auto=False)
            target = check_language(target, "target", self.languages)
            result = TurnResult(source_language=source, source_text=text.strip(), target_language=target)
            self._translate_and_speak(TurnContext(result, emit, started), speak)
            return result

    def can_speak(self, language: str) -> bool:
        """True when a voice for ``language`` is loaded (``ja-easy`` is spoken by the Japanese voice)."""
        return spoken_as(language) in self.voices

    def set_glossary(self, glossary: Any | None) -> None:
        """Enforce ``glossary`` from the next turn on (a newly synced version); call between turns."""
        for voice in self.voices.values():
            if hasattr(voice, "set_glossary"):
                voice.set_glossary(glossary)
        setter = getattr(self.mt_router, "set_glossary", None)
        if setter is not None:
            setter(glossary)
        elif self.mt_router is not None:
            self.mt_router.glossary = glossary
        if self.levers is not None and glossary is not None:
            self.corrector, self.phrase_matcher = self.levers.build(glossary)
            self.verifier = build_verifier(self.levers, glossary, self.corrector)
            # a counter that started without a glossary gets its hotwords and beam alternatives now
            self.transcriber = tune_for_glossary(self.transcriber, self.levers, glossary, self.corrector)

    def speak_text(
        self,
        text: str,
        language: str,
        on_event: EventHandler | None = None,
        *,
        readings: tuple[ReadingSegment, ...] | None = None,
    ) -> TurnResult:
        """Speak ``text`` in ``language`` (no MT): a phrase, or a translation the speaker confirmed.

        Emits ``SpeechAudio`` per sentence as soon as it is synthesised, then an empty ``is_last`` marker;
        a ``Notice`` when no voice exists. ``readings``: the furigana shown (Japanese), which the voice
        follows; for ``ja-easy`` they are computed when not given.
        """
        ctx = TurnContext(
            TurnResult(
                source_language=language, source_text=text, target_language=language, target_text=text
            ),
            on_event or ignore,
            time.perf_counter(),
        )
        ctx.result.readings = readings or (self.readings_for(text) if language == EASY_JAPANESE else None)
        speak_translation(ctx, self.voices)
        ctx.finish()
        return ctx.result

    def readings_for(self, text: str) -> tuple[ReadingSegment, ...] | None:
        """The furigana the screen shows for ``text`` (None without the Easy Japanese analyser)."""
        return easy.readings(self._easy(), text)

    # -- the stages ------------------------------------------------------------------------------------

    def _run_turn(
        self,
        audio: np.ndarray,
        source: str,
        target: str,
        emit: EventHandler,
        speak: bool = True,
        streamed: StreamedSpeech | None = None,
    ) -> TurnResult:
        started = time.perf_counter()
        source = check_language(source, "source", self.languages, allow_auto=True)
        target = check_language(target, "target", self.languages)
        if self.transcriber is None:
            raise LanguageError("this pipeline has no speech recogniser; type the text instead")
        language = None if source == AUTO else source
        try:
            return self._recognised_turn(audio, language, target, emit, speak, streamed, started)
        finally:
            self.transcriber.release()  # the utterance's encoder output goes with the turn

    def _recognised_turn(
        self,
        audio: np.ndarray,
        language: str | None,
        target: str,
        emit: EventHandler,
        speak: bool,
        streamed: StreamedSpeech | None,
        started: float,
    ) -> TurnResult:
        transcriber = self.transcriber
        speech, transcript, timings = transcribe.recognise(
            transcriber, audio, language, self.vad_options, streamed
        )
        result = TurnResult(
            source_language=transcript.language,
            source_text=transcript.text,
            target_language=target,
            asr_pack=self.asr_pack,
            transcript=transcript,
            timings_ms=timings,
        )
        ctx = TurnContext(result, emit, started, speech, streamed)
        heard = speech
        if streamed is not None and streamed.mode == "reused" and streamed.runner.latest is not None:
            heard = streamed.runner.latest.speech  # the recogniser holds the reused partial's encoding
        terms.correct_terms(
            self.corrector,
            result,
            self.verifier,
            lambda texts: transcriber.score_texts(heard, texts, transcript.language),
        )
        transcribe.announce(ctx, transcript)
        if not transcribe.stop_unusable(ctx, transcript):
            self._translate_and_speak(ctx, speak)
        return result

    def _translate_and_speak(self, ctx: TurnContext, speak_it: bool = True) -> None:
        result = ctx.result
        clock = time.perf_counter()
        self._translate(ctx)
        result.timings_ms["mt"] = ms_since(clock)
        refuse_loop(ctx, self.loop_guard)
        if result.target_text:
            ctx.emit(translation_ready(result))
            result.timings_ms["first_output"] = ms_since(ctx.started)
            if speak_it and self._speaks(result):
                speak_translation(ctx, self.voices)
        ctx.finish()
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "turn %s→%s timings %s", result.source_language, result.target_language, result.timings_ms
            )

    def _speaks(self, result: TurnResult) -> bool:
        """Whether a shown translation is spoken: never a loop or English shown in place of the target."""
        return (
            result.repetition is None
            and result.shown_language is None
            and (self.speak_to_clerk or result.target_language != STAFF_LANGUAGE)
        )

    def _translate(self, ctx: TurnContext) -> None:
        result = ctx.result
        source, target = result.source_language, result.target_language
        if target == EASY_JAPANESE:
            easy.rewrite(ctx, self._easy())
            return
        if source == target:
            result.target_text, result.mt_engine = result.source_text, "none"
            return
        if terms.serve_phrase(self.phrase_matcher, result):
            return
        pre_edit = self._pre_edit if self.pre_edit_easy_ja and source == STAFF_LANGUAGE else None
        MtStage(self.mt_router, self.transcriber, self.back_translation, pre_edit).run(ctx)

    def _pre_edit(self, text: str) -> str:
        """The clerk's Japanese simplified for MT (unchanged without the Easy Japanese analyser)."""
        rewriter = self._easy()
        return rewriter.pre_edit(text) if rewriter is not None else text

    def _easy(self) -> Any | None:
        """The Easy Japanese rewriter (``from_settings`` loads it; a pipeline built directly loads it
        on first use, once)."""
        if self.easy_japanese is None:
            self.easy_japanese = easy.load_easy_japanese()
        return self.easy_japanese


@contextmanager
def _reported(emit: EventHandler) -> Iterator[None]:
    """Send a failed turn's error as a ``TurnError``; a crashed engine becomes ``EngineFailed``."""
    try:
        yield
    except EdgeError as exc:
        emit(TurnError(text=str(exc), code=exc.code))
        raise
    except Exception as exc:  # an engine crashed: this turn is lost, the session is not
        log_engine_failure("turn", exc)
        error = EngineFailed(
            f"an engine failed on this turn ({type(exc).__name__}); please try again, "
            "and if it keeps failing run `madoguchi edge check`"
        )
        emit(TurnError(text=str(error), code=error.code))
        raise error from exc
