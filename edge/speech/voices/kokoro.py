"""Kokoro-82M voices: one shared int8 ONNX model, a voice vector per voice pack, clause-level streaming.

Every Kokoro voice pack (``kokoro-<lang>-<voice>``) points to the model pack ``kokoro-82m-v1.0-int8``;
all voices in the process share ONE ``onnxruntime`` session, created on the first sentence (lazily), so a
counter with five Kokoro languages holds the model once. Kokoro is slower than Mei or Piper (RTF about
0.5-1 on two cores), so the first piece of a text is cut at its first clause mark: the resident hears the
first clause while the rest is synthesised.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edge.errors import EngineUnavailable
from edge.speech.tts import SpeechChunk, Synthesizer, TtsOptions, first_clause_pieces, pcm16
from edge.speech.voices import VoiceRef

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 24000
#: The model's token limit per call (510 style rows; two are the boundary pads).
MAX_TOKENS = 508
#: A first clause shorter than this (characters) is not cut off: too short a piece sounds choppy.
MIN_FIRST_CLAUSE = 8
_WARM_TEXT = {"ja": "はい", "zh": "好"}


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
    def shared(cls, model: Path, vocab: Path, threads: int = 2) -> KokoroModel:
        """The process-wide model of ``model`` (created on first request, loaded on first use; shared
        while a voice holds it, so voices loaded together share one session and a dropped language
        gives its memory back)."""
        key = Path(model).resolve()
        with cls._shared_lock:
            found = cls._shared.get(key)
            if found is None:
                found = cls(_ModelFiles(key, Path(vocab)), threads)
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
                import onnxruntime as ort
            except ImportError as exc:
                raise EngineUnavailable(
                    "onnxruntime is not installed: pip install 'madoguchi[edge]'"
                ) from exc
            started = time.perf_counter()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.enable_cpu_mem_arena = False  # measured: 240 MB resident instead of 310 MB
            try:
                self._vocab = json.loads(self.files.vocab.read_text(encoding="utf-8"))["vocab"]
                self._session = ort.InferenceSession(
                    str(self.files.model), sess_options=options, providers=["CPUExecutionProvider"]
                )
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


def stream_pieces(text: str) -> Iterator[str]:
    """Sentences, the first one cut after its first clause so the first audio comes early."""
    return first_clause_pieces(text, limit=200, min_first=MIN_FIRST_CLAUSE)


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
    ) -> None:
        """Read the voice vector and prepare the phonemizer (the model loads on first use).

        Raises:
            EngineUnavailable: the voice file is missing or malformed, or the phonemizer's tool is absent.
        """
        from edge.speech.voices.kokoro_phonemes import phonemizer_for

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
        self._phonemize = phonemizer_for(language, code)
        self.options = options
        self.name = name or voice_file.stem

    @classmethod
    def from_ref(cls, ref: VoiceRef, threads: int = 2) -> KokoroSynthesizer:
        """The voice of a ``VoiceRef`` from ``kokoro_voice_ref``."""
        assert ref.model_path is not None
        model = KokoroModel.shared(ref.extra["model_file"], ref.extra["vocab_file"], threads)
        return cls(ref.model_path, model, ref.language, code=ref.extra.get("code"), name=ref.pack_id)

    @property
    def language(self) -> str:
        return self._language

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    def warm(self) -> None:
        """Warm the phonemizer; run the shared model once per process (not once per voice)."""
        first = not self._model.loaded
        tokens = self._model.tokens(self._phonemize(_WARM_TEXT.get(self._language, "ok")))
        if tokens and first:
            self._model.run(tokens, self._style[min(len(tokens), len(self._style) - 1)], 1.0)

    def synthesize(self, text: str, options: TtsOptions | None = None) -> Iterator[SpeechChunk]:
        """Yield the first clause, then one chunk per sentence (see ``Synthesizer.synthesize``)."""
        opts = options or self.options
        speed = 1.0 / opts.length_scale if opts.length_scale else 1.0
        index = 0
        for piece in stream_pieces(text):
            tokens = self._model.tokens(self._phonemize(piece))
            audio = [
                self._model.run(part, self._style[min(len(part), len(self._style) - 1)], speed)
                for part in _token_parts(tokens)
            ]
            if audio:
                yield SpeechChunk(
                    pcm=pcm16(np.concatenate(audio), opts.volume), sample_rate=SAMPLE_RATE, index=index
                )
                index += 1


def _token_parts(tokens: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(tokens), MAX_TOKENS):
        part = tokens[start : start + MAX_TOKENS]
        if part:
            yield part
