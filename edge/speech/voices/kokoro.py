"""Kokoro-82M voices: one shared int8 ONNX model, a voice vector per voice pack, clause-level streaming.

Every Kokoro voice pack (``kokoro-<lang>-<voice>``) points to the model pack ``kokoro-82m-v1.0-int8``;
all voices in the process share ONE ``onnxruntime`` session, created on the first sentence (lazily), so a
counter with five Kokoro languages holds the model once. Kokoro is slower than Mei or Piper (RTF about
0.5-1 on two cores), so the first piece of a text is short (``kokoro_pieces``): the resident hears the
first words while the rest is synthesised.

Memory: one run's activations grow with the length of its audio (about 180 MB per second of speech when
each tensor is a plain ``malloc``: glibc keeps the freed blocks, so a 5 s sentence left the process at
1.1 GB). The session therefore uses ONNX Runtime's CPU arena without memory patterns and gives the arena
back after every run: measured 270 MB peak for a 4.7 s piece, model included.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edge.errors import EngineUnavailable
from edge.speech.tts import ReadingSegment, SpeechChunk, Synthesizer, TtsOptions, onnx_session, pcm16
from edge.speech.voices import VoiceRef
from edge.speech.voices.kokoro_phonemes import JapanesePhonemes, check_phonemizer
from edge.speech.voices.kokoro_pieces import stream_pieces

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 24000
#: The model's token limit per call (510 style rows; two are the boundary pads).
MAX_TOKENS = 508
#: A short text per language whose phonemizing and cutting loads every dictionary the voice uses.
_WARM_TEXT = {"ja": "はい、人です", "zh": "好的，谢谢"}


def default_threads() -> int:
    """ONNX Runtime's intra-op threads: one on a machine of two cores or fewer, else two.

    Kokoro's run is a chain of convolutions that split badly: on a busy two-core counter (the recogniser,
    the web app) a second thread mostly waits for the first to be scheduled, and a run took 1.3-1.7x the
    wall time of a single thread (measured); with more cores, two threads help.
    """
    import os

    return 1 if (os.cpu_count() or 1) <= 2 else 2


@dataclass(frozen=True)
class _ModelFiles:
    model: Path
    vocab: Path


class KokoroModel:
    """The shared ONNX session and phoneme vocabulary (one per model file in the process)."""

    #: Held weakly: the model (and its ONNX session) goes when its last voice does.
    _shared: ClassVar[weakref.WeakValueDictionary[Path, KokoroModel]] = weakref.WeakValueDictionary()
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, files: _ModelFiles, threads: int) -> None:
        self.files = files
        self.threads = threads
        self._session: Any | None = None
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, model: Path, vocab: Path, threads: int | None = None) -> KokoroModel:
        """The process-wide model of ``model`` (created on first request, loaded on first use; shared
        while a voice holds it, so voices loaded together share one session and a dropped language
        gives its memory back)."""
        key = Path(model).resolve()
        with cls._shared_lock:
            found = cls._shared.get(key)
            if found is None:
                found = cls(_ModelFiles(key, Path(vocab)), threads or default_threads())
                cls._shared[key] = found
            return found

    @property
    def loaded(self) -> bool:
        """True once the ONNX session exists."""
        return self._session is not None

    def tokens(self, phonemes: str) -> list[int]:
        """Phonemes → token ids (unknown symbols dropped)."""
        self._load()
        return [self._vocab[ch] for ch in phonemes if ch in self._vocab]

    def run(self, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        """Float audio at 24 kHz for one token sequence (≤ ``MAX_TOKENS``)."""
        self._load()
        assert self._session is not None
        feeds = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, 256),
            "speed": np.array([speed], dtype=np.float32),
        }
        with self._lock:  # one inference at a time: the counter speaks one sentence at a time anyway
            audio = self._session.run(None, feeds)[0]
        return np.asarray(audio, dtype=np.float32).ravel()

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime  # noqa: F401
            except ImportError as exc:
                raise EngineUnavailable(
                    "onnxruntime is not installed: pip install 'madoguchi[edge]'"
                ) from exc
            started = time.perf_counter()
            try:
                self._vocab = json.loads(self.files.vocab.read_text(encoding="utf-8"))["vocab"]
                # bounded memory (see the module docstring: 270 MB peak instead of 1.1 GB), no spinning
                self._session = onnx_session(self.files.model, self.threads)
            except Exception as exc:  # onnxruntime raises its own types; any failure means a bad model
                raise EngineUnavailable(
                    f"cannot load the Kokoro model {self.files.model.name} ({type(exc).__name__}); "
                    "reinstall kokoro-82m-v1.0-int8"
                ) from exc
            _LOGGER.info("Kokoro model loaded in %.1f s", time.perf_counter() - started)


def kokoro_voice_ref(store: Any, pack: Any, language: str) -> VoiceRef:
    """The ``VoiceRef`` of an installed Kokoro voice pack (its model pack must be installed too).

    Raises:
        EngineUnavailable: the model pack is missing or corrupt.
    """
    from models.errors import ModelPackError
    from models.registry import verify_installed

    model_id = str(pack.spec.runtime.get("model_pack", "kokoro-82m-v1.0-int8"))
    try:
        model_pack = store.get(model_id)
        verify_installed(model_pack)
    except ModelPackError as exc:
        raise EngineUnavailable(
            f"Kokoro voice {pack.id} needs the model pack: run `madoguchi models install {model_id}` ({exc})"
        ) from exc
    licence = pack.spec.license
    attribution = "; ".join(a for a in (licence.attribution, model_pack.spec.license.attribution) if a)
    return VoiceRef(
        language,
        pack.runtime_path("voice_file"),
        None,
        pack.id,
        engine="kokoro",
        attribution=attribution,
        license=licence.spdx,
        extra={
            "model_file": model_pack.runtime_path("model_file"),
            "vocab_file": model_pack.runtime_path("vocab_file"),
            "code": pack.spec.engine_code(language),
        },
    )


class KokoroSynthesizer(Synthesizer):
    """One Kokoro voice (a voice vector) speaking one language through the shared model."""

    def __init__(
        self,
        voice_file: Path,
        model: KokoroModel,
        language: str,
        *,
        code: str | None = None,
        name: str | None = None,
        options: TtsOptions = TtsOptions(),
        glossary: Any | None = None,
    ) -> None:
        """Read the voice vector and check the phonemizer's tools (the phonemizer's dictionaries and the
        model load on first use or ``warm``; Japanese reads ``glossary``'s terms with their readings).

        Raises:
            EngineUnavailable: the voice file is missing or malformed, or the phonemizer's tool is absent.
        """
        voice_file = Path(voice_file)
        try:
            style = np.fromfile(voice_file, dtype="<f4")
        except OSError as exc:
            raise EngineUnavailable(f"Kokoro voice file missing: {voice_file}; reinstall the pack") from exc
        if style.size == 0 or style.size % 256:
            raise EngineUnavailable(f"{voice_file.name} is not a Kokoro voice vector; reinstall the pack")
        self._style = style.reshape(-1, 256)
        self._model = model
        self._language = language
        check_phonemizer(language, code)
        self._code = code
        self._phonemizer: Callable[[str], str] | None = None
        self._glossary = glossary
        self._phonemizer_lock = threading.Lock()
        self.options = options
        self.name = name or voice_file.stem

    @classmethod
    def from_ref(
        cls, ref: VoiceRef, threads: int | None = None, glossary: Any | None = None
    ) -> KokoroSynthesizer:
        """The voice of a ``VoiceRef`` from ``kokoro_voice_ref`` (``glossary``: readings for Japanese)."""
        assert ref.model_path is not None
        model = KokoroModel.shared(ref.extra["model_file"], ref.extra["vocab_file"], threads)
        return cls(
            ref.model_path,
            model,
            ref.language,
            code=ref.extra.get("code"),
            name=ref.pack_id,
            glossary=glossary,
        )

    @property
    def language(self) -> str:
        return self._language

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    #: Loading takes seconds (the model, a phonemizer's dictionaries): warmed in the background.
    warms_slowly = True

    @property
    def ready(self) -> bool:
        """True once this voice's phonemizer and the shared model are loaded."""
        return self._phonemizer is not None and self._model.loaded

    def phonemes(self, text: str) -> str:
        """Kokoro's phonemes of ``text`` (the phonemizer is built on first use; one call at a time, as a
        background warm may run beside a turn)."""
        with self._phonemizer_lock:
            return self._built_phonemizer()(text)

    def _built_phonemizer(self) -> Callable[[str], str]:
        if self._phonemizer is None:
            from edge.speech.voices.kokoro_phonemes import phonemizer_for

            self._phonemizer = phonemizer_for(self._language, self._code, self._glossary)
        return self._phonemizer

    def set_glossary(self, glossary: Any | None) -> None:
        """Japanese: read ``glossary``'s terms with its readings from the next sentence on."""
        with self._phonemizer_lock:
            self._glossary = glossary
            setter = getattr(self._phonemizer, "set_glossary", None)
            if setter is not None:
                setter(glossary)

    def spoken_text(self, segments: Sequence[ReadingSegment]) -> str:
        """The text this voice is given for ``segments`` so it says the readings shown (Japanese; other
        languages: the text)."""
        with self._phonemizer_lock:
            phonemizer = self._built_phonemizer()
            if isinstance(phonemizer, JapanesePhonemes):
                return phonemizer.spoken_text(segments)
        return "".join(text for text, _ in segments)

    def synthesize_readings(
        self, segments: Sequence[ReadingSegment], options: TtsOptions | None = None
    ) -> Iterator[SpeechChunk]:
        """Speak ``segments`` with the readings displayed over them (furigana), as Mei does."""
        return self.synthesize(self.spoken_text(segments), options)

    def warm(self) -> None:
        """Load what the first sentence needs: the phonemizer and its dictionaries, the word segmenter
        that cuts the first piece, and the shared model, run once per process (not once per voice)."""
        first = not self._model.loaded
        text = _WARM_TEXT.get(self._language, "ok")
        list(stream_pieces(text, self._language))
        tokens = self._model.tokens(self.phonemes(text))
        if tokens and first:
            self._model.run(tokens, self._style[min(len(tokens), len(self._style) - 1)], 1.0)

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield the first words, then one chunk per sentence (see ``Synthesizer.synthesize``)."""
        opts = options or self.options
        speed = 1.0 / opts.length_scale if opts.length_scale else 1.0
        index = 0
        for piece in stream_pieces(text, self._language):
            audio = self._speak(self.phonemes(piece), speed)
            if audio:
                samples = trim_leading_silence(np.concatenate(audio))
                yield SpeechChunk(pcm=pcm16(samples, opts.volume), sample_rate=SAMPLE_RATE, index=index)
                index += 1

    def _speak(self, phonemes: str, speed: float) -> list[np.ndarray]:
        """The audio of ``phonemes`` in model runs of at most ``MAX_TOKENS`` (the style row chosen by each
        run's length, as Kokoro does)."""
        return [
            self._model.run(part, self._style[min(len(part), len(self._style) - 1)], speed)
            for part in _token_parts(self._model.tokens(phonemes))
        ]


#: Kokoro starts each output with about 0.3 s of silence; this much of it is kept.
LEAD_KEPT_S = 0.05
#: Below this (float amplitude) a sample counts as silence.
SILENCE_LEVEL = 0.01


def trim_leading_silence(audio: np.ndarray) -> np.ndarray:
    """``audio`` without its leading silence beyond ``LEAD_KEPT_S``: the first sound plays sooner (the
    trailing silence stays, it is the pause before the next piece)."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    if loud.size == 0:
        return audio
    return audio[max(0, int(loud[0]) - int(LEAD_KEPT_S * SAMPLE_RATE)) :]


def _token_parts(tokens: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(tokens), MAX_TOKENS):
        part = tokens[start : start + MAX_TOKENS]
        if part:
            yield part
