"""Speech synthesis: a small ``Synthesizer`` ABC and the Piper backend, streamed sentence by sentence.

Piper phonemizes the text it gets, then yields one ``AudioChunk`` per sentence; we pass each one on as a
``SpeechChunk`` at once, so the resident hears the first sentence while the next is synthesised. A long
first sentence's first clause or phrase goes first on its own (``piper_pieces``), so the first audio does
not wait for a whole long sentence; later pieces are whole sentences (Piper's prosody is per sentence).
Where text is cut is ``edge.speech.pieces``, shared with the other engines. The other engines (OpenJTalk,
Kokoro, espeak-ng) live in ``edge.speech.voices`` behind the same ABC.
"""

from __future__ import annotations

import abc
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import EngineUnavailable
from edge.speech.pieces import (
    PHRASE_OPENERS,
    FirstPiece,
    bounded_pieces,
    first_cut,
    sentence_pieces,
    spaced_word_ends,
)

_LOGGER = logging.getLogger(__name__)


def _no_debug(record: logging.LogRecord) -> bool:
    """Piper logs the text it speaks (and its phonemes) at DEBUG: such records never pass."""
    return record.levelno > logging.DEBUG


#: Conversation text reaches no log at any level, whatever level IT sets for piper's logger.
logging.getLogger("piper.voice").addFilter(_no_debug)


@dataclass(frozen=True)
class TtsOptions:
    """Per-call synthesis settings.

    Attributes:
        length_scale: Phoneme duration factor (ratio; > 1 speaks slower, None = the voice's default).
        noise_scale: Generator noise (None = the voice's default).
        noise_w_scale: Phoneme width noise (None = the voice's default).
        volume: Output gain (ratio; 1.0 = unchanged).
        speaker_id: Speaker of a multi-speaker voice (index; None = the first).
    """

    length_scale: float | None = None
    noise_scale: float | None = None
    noise_w_scale: float | None = None
    volume: float = 1.0
    speaker_id: int | None = None


@dataclass(frozen=True)
class SpeechChunk:
    """One synthesised sentence.

    Attributes:
        pcm: int16 little-endian mono samples.
        sample_rate: Samples per second (Hz).
        index: Sentence index within the text (0-based).
    """

    pcm: bytes
    sample_rate: int
    index: int

    @property
    def duration_s(self) -> float:
        """Length of the chunk (seconds)."""
        return len(self.pcm) / 2 / self.sample_rate

    def samples(self) -> np.ndarray:
        """The chunk as an int16 array."""
        return np.frombuffer(self.pcm, dtype="<i2")


#: A text piece and the reading displayed over it (hiragana furigana; None = read as written).
ReadingSegment = tuple[str, str | None]


class Synthesizer(abc.ABC):
    """A text-to-speech voice.

    Attributes:
        name: The voice's display name (its pack id).
        quality: ``neural`` (natural) or ``machine`` (a last-resort voice of low quality, labelled so).
        attribution: What the voice's licence requires to be shown ("" when nothing).
    """

    name: str = "voice"
    quality: str = "neural"
    attribution: str = ""

    @property
    @abc.abstractmethod
    def language(self) -> str:
        """The language this voice speaks (ISO 639-1)."""

    @property
    @abc.abstractmethod
    def sample_rate(self) -> int:
        """Output sample rate (Hz)."""

    @abc.abstractmethod
    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield one ``SpeechChunk`` per sentence of ``text``, as soon as each is ready."""

    def synthesize_readings(
        self, segments: Sequence[ReadingSegment], options: TtsOptions | None = None
    ) -> Iterator[SpeechChunk]:
        """Speak text shown with furigana, with the readings shown (voices without readings: the text)."""
        return self.synthesize("".join(text for text, _ in segments), options)

    def set_glossary(self, glossary: Any | None) -> None:
        """Use ``glossary``'s readings from the next sentence on (voices without a lexicon ignore it)."""
        return None

    def warm(self) -> None:
        """Synthesise a short word so the first real turn is not slower."""
        for _chunk in self.synthesize("ok"):
            pass


def voice_language(config_path: Path) -> str:
    """ISO 639-1 language of a Piper voice, from ``language.family`` or ``espeak.voice`` of its JSON."""
    try:
        data = json.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngineUnavailable(
            f"cannot read the Piper voice config {config_path} ({exc}); reinstall the voice"
        ) from exc
    language = data.get("language") or {}
    code = language.get("family") or str(language.get("code", "")).split("_")[0]
    if not code:
        code = str((data.get("espeak") or {}).get("voice", "")).split("-")[0]
    if not code:
        raise EngineUnavailable(f"{config_path}: no language in the voice config; reinstall the voice")
    return code.lower()


class PiperSynthesizer(Synthesizer):
    """A Piper ONNX voice, loaded once."""

    def __init__(
        self,
        model_path: Path,
        config_path: Path | None = None,
        *,
        language: str | None = None,
        options: TtsOptions = TtsOptions(),
        name: str | None = None,
    ) -> None:
        """Load the voice.

        Args:
            model_path: The ``.onnx`` voice.
            config_path: Its ``.onnx.json`` (default: next to the model).
            language: Override of the language read from the config (ISO 639-1).
            options: Default synthesis options.
            name: A display name (default: the file stem).

        Raises:
            EngineUnavailable: the files are missing or not a Piper voice, or piper-tts is absent.
        """
        model_path = Path(model_path)
        config_path = Path(config_path) if config_path else model_path.with_name(model_path.name + ".json")
        if not model_path.is_file() or not config_path.is_file():
            raise EngineUnavailable(
                f"Piper voice files missing: {model_path} (and its .json); reinstall the voice"
            )
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise EngineUnavailable(
                "piper-tts is not installed; install the edge extra: pip install 'madoguchi[edge]'"
            ) from exc
        started = time.perf_counter()
        try:
            self._voice = PiperVoice.load(model_path, config_path=config_path)
            self._voice.session = onnx_session(model_path)  # type: ignore[assignment]
        except Exception as exc:  # onnxruntime raises its own types; any failure means a bad voice
            raise EngineUnavailable(
                f"cannot load the Piper voice {model_path.name} ({type(exc).__name__}); reinstall it"
            ) from exc
        self._language = language or voice_language(config_path)
        self.options = options
        self.name = name or model_path.name.removesuffix(".onnx")
        _LOGGER.info("Piper voice %s loaded in %.1f s", self.name, time.perf_counter() - started)

    @property
    def language(self) -> str:
        return self._language

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence (see ``Synthesizer.synthesize``)."""
        from piper import SynthesisConfig

        opts = options or self.options
        config = SynthesisConfig(
            speaker_id=opts.speaker_id,
            length_scale=opts.length_scale,
            noise_scale=opts.noise_scale,
            noise_w_scale=opts.noise_w_scale,
            volume=opts.volume,
        )
        index = 0
        for piece in piper_pieces(text, self._language):
            for chunk in self._voice.synthesize(piece, syn_config=config):
                yield SpeechChunk(pcm=chunk.audio_int16_bytes, sample_rate=chunk.sample_rate, index=index)
                index += 1


#: Piper's first piece, in characters: about 2 s of speech, which Piper synthesises in about 0.2 s of CPU
#: on a two-core counter. A sentence up to 1.2 times that stays whole; a first clause, or a phrase before
#: an opener word, up to 1.4 times that is the piece when at least 12 characters follow it; with neither the
#: sentence stays whole (a cut inside a phrase, "the evacuation | shelters", is harder to understand).
PIPER_FIRST = FirstPiece(budget=30, whole_slack=1.2, reach=1.4, min_rest=12, blind=False)


def piper_pieces(text: str, language: str = "en") -> Iterator[str]:
    """What Piper gets at once: a long first sentence's first clause or first phrase (so the first audio
    comes early), then the rest in bounded pieces, which Piper speaks sentence by sentence (its prosody is
    per sentence)."""
    text = text.strip()
    first = next(sentence_pieces(text), "")
    cut = first_cut(
        first, spaced_word_ends(first), len(first), PIPER_FIRST, openers=PHRASE_OPENERS.get(language, ())
    )
    if cut is not None:
        yield text[:cut].strip()
        text = text[cut:]
    yield from bounded_pieces(text)


def pcm16(samples: np.ndarray, volume: float = 1.0) -> bytes:
    """Float samples in [-1, 1] as int16 little-endian bytes (clipped)."""
    scaled = np.clip(np.asarray(samples, dtype=np.float64) * volume * 32767.0, -32768, 32767)
    return scaled.astype("<i2").tobytes()


class ShrinkingSession:
    """An ONNX Runtime session whose CPU arena is given back after every run.

    One run's activations grow with its audio. Without an arena each temporary tensor is a plain
    ``malloc`` that glibc keeps after it is freed (a 9.6 s Piper sentence peaked at 509 MB); with an arena
    that keeps what it grew to, memory stays at the largest sentence seen. An arena without memory patterns
    (which pre-allocate for the longest input seen), shrunk after each run, keeps the peak to one run's
    needs and gives it back.
    """

    def __init__(self, session: Any, run_options: Any) -> None:
        self._session = session
        self._run_options = run_options

    def run(self, output_names: Any, feeds: dict[str, Any], run_options: Any = None) -> Any:
        """``InferenceSession.run`` with the arena shrunk afterwards."""
        return self._session.run(output_names, feeds, run_options or self._run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def onnx_session(model_path: Path, threads: int | None = None) -> ShrinkingSession:
    """A CPU session of ``model_path`` with bounded memory (``ShrinkingSession``) whose worker threads do
    not busy-wait (on a loaded two-core counter spinning threads slow every other engine down);
    ``threads``: intra-op threads (None: ONNX Runtime's default)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    run_options = onnxruntime.RunOptions()
    run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return ShrinkingSession(session, run_options)
