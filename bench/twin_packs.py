"""Twin MT packs: random-weight models of real pack shapes, installed in bench-only pack stores.

The benchmark times MT through the real ``edge.translate.router.MtRouter`` (routing, pack loading,
sentence split, glossary protection, CTranslate2 decoding). Where no real pack is installed, it installs a
*twin*
(``bench.twins``: exact architecture, random int8 weights) in a pack store of its own and forces the
decoding length, because a random model has no natural end of sentence:

- ``TwinRouter`` sets ``min_decoding_length = max_decoding_length = ceil(1.2 × source tokens)`` (longest
  sentence of the turn) before each call, and replaces the twin's meaningless output by a stand-in text
  (for speech out: Whisper's own English translation of the clip, computed before the run, untimed).
- Tokens are counted with a sentencepiece model trained once on the NTREX-128 sentences (all counter
  languages), so source lengths are realistic for a multilingual subword vocabulary.

Everything built is cached under ``$MADOGUCHI_CACHE/twins`` (default ``~/.cache/madoguchi/twins``);
reruns reuse it.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.twins import (
    M2M100_418M,
    QUICKMT,
    SPECIAL_TOKENS,
    TINY,
    TwinShape,
    build_model,
    spm_pieces,
    train_sentencepiece,
    write_twin_pack_json,
)
from glossary.languages import COUNTER_LANGUAGES
from madoguchi import paths

_LOGGER = logging.getLogger(__name__)

#: Bump when the layout of built twins changes (old caches are rebuilt).
TWIN_VERSION = 2
#: NTREX-128 files per language (line i aligned across files).
NTREX_FILES: dict[str, str] = {
    "en": "newstest2019-src.eng.txt",
    "ja": "newstest2019-ref.jpn.txt",
    "vi": "newstest2019-ref.vie.txt",
    "zh": "newstest2019-ref.zho-CN.txt",
    "tl": "newstest2019-ref.fil.txt",
    "pt": "newstest2019-ref.por-BR.txt",
    "ne": "newstest2019-ref.nep.txt",
    "ko": "newstest2019-ref.kor.txt",
    "id": "newstest2019-ref.ind.txt",
    "es": "newstest2019-ref.spa.txt",
}
#: Vocabulary entries always allowed by the twin's vocabulary map (CTranslate2 ``use_vmap``).
VMAP_TOKENS = 16_000


def twins_cache_dir() -> Path:
    """``<cache>/twins`` (``madoguchi.paths.cache_dir``)."""
    return paths.cache_dir() / "twins"


def ntrex_lines(text_dir: Path, language: str, limit: int | None = None) -> list[str]:
    """Lines of the NTREX-128 file of ``language`` ([] when absent)."""
    path = Path(text_dir) / "NTREX-128" / NTREX_FILES.get(language, "")
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[:limit] if limit else lines


@dataclass(frozen=True)
class TwinScale:
    """How big the twins of a run are.

    Attributes:
        name: ``full`` (real shapes) or ``tiny`` (the quick smoke run).
        vocab_size: Size of the shared sentencepiece tokenizer (pieces).
        shallow: Shape of the direct/pivot pair packs (quickmt).
        coverage: Shape of the multilingual pack (M2M-100 418M).
    """

    name: str
    vocab_size: int
    shallow: TwinShape
    coverage: TwinShape


FULL = TwinScale("full", 32_000, QUICKMT, M2M100_418M)
_TINY_VOCAB = 2048
TINY_SCALE = TwinScale(
    "tiny",
    1000,
    replace(
        TINY,
        name="tiny-shallow",
        shared_embeddings=False,
        source_vocab_size=_TINY_VOCAB,
        target_vocab_size=_TINY_VOCAB,
    ),
    replace(
        TINY,
        name="tiny-coverage",
        decoder_layers=2,
        source_vocab_size=_TINY_VOCAB,
        target_vocab_size=_TINY_VOCAB,
    ),
)
SCALES = {s.name: s for s in (FULL, TINY_SCALE)}


def bench_tokenizer(scale: TwinScale, text_dir: Path, cache: Path | None = None) -> Path:
    """The sentencepiece model of ``scale`` (trained once on NTREX-128, or the tiny built-in corpus)."""
    cache = cache or twins_cache_dir()
    path = cache / f"spm-{scale.vocab_size}.model"
    if path.is_file():
        return path
    lines: list[str] = []
    per_language = None if scale.vocab_size > 4000 else 15
    for language in COUNTER_LANGUAGES:
        lines.extend(ntrex_lines(text_dir, language, per_language))
    if len(lines) < 100:
        from bench.tiny_packs import default_corpus

        lines = default_corpus()
    _LOGGER.info("training the %d-piece twin tokenizer on %d lines", scale.vocab_size, len(lines))
    return _train_tokenizer(lines, path, scale.vocab_size)


def _train_tokenizer(lines: Sequence[str], path: Path, vocab_size: int) -> Path:
    """Unigram sentencepiece model; rare characters (CJK) fall back to ``<unk>`` like in real packs."""
    coverage = 0.9995 if vocab_size > 4000 else 0.98
    return train_sentencepiece(lines, path, vocab_size=vocab_size, character_coverage=coverage)


def _fill(pieces: Sequence[str], size: int, stem: str, extra: Sequence[str] = ()) -> list[str]:
    """Specials, ``pieces``, then ``extra``, then filler pieces: exactly ``size`` unique entries."""
    head = list(SPECIAL_TOKENS) + [p for p in pieces if p not in SPECIAL_TOKENS and p not in extra]
    head = head[: size - len(extra)] + list(extra)
    return head + [f"\u2581\ue000{stem}{i}" for i in range(size - len(head))]


@dataclass(frozen=True)
class TwinPackPlan:
    """One twin pack to install.

    Attributes:
        pack_id: Pack id in the bench store.
        fmt: ``ct2-sentencepiece`` (quickmt-like pair pack) or ``m2m100`` (multilingual).
        shape: The architecture.
        directions: Pairs it translates (None = every pair among the counter languages).
        vmap: Also write a vocabulary map of ``VMAP_TOKENS`` entries (``use_vmap``).
    """

    pack_id: str
    fmt: str
    shape: TwinShape
    directions: tuple[tuple[str, str], ...] | None
    vmap: bool = False


def build_twin_pack(plan: TwinPackPlan, store_root: Path, tokenizer: Path, *, seed: int = 0) -> Path:
    """Install ``plan`` in ``store_root`` (reused when already built with the same plan)."""
    out = store_root / plan.pack_id
    stamp = {
        "twin_version": TWIN_VERSION,
        "shape": plan.shape.__dict__,
        "fmt": plan.fmt,
        "tokenizer": tokenizer.name,
        "vmap": plan.vmap,
        "directions": plan.directions,
    }
    stamp_file = out / "twin.json"
    built = (out / "pack.json").is_file() and stamp_file.is_file()
    if built and json.loads(stamp_file.read_text(encoding="utf-8")) == json.loads(json.dumps(stamp)):
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    codes = {lang: f"__{lang}__" for lang in COUNTER_LANGUAGES} if plan.fmt == "m2m100" else {}
    tgt_vocab, runtime = _install_model(plan, out, tokenizer, codes, seed)
    if plan.vmap:
        allowed = [t for t in tgt_vocab[:VMAP_TOKENS] if t not in ("<pad>", *codes.values())]
        (out / "vmap.txt").write_text("\t" + " ".join(allowed) + "\n", encoding="utf-8")
    write_twin_pack_json(
        out,
        pack_id=plan.pack_id,
        fmt=plan.fmt,
        languages=(
            sorted({x for pair in plan.directions for x in pair})
            if plan.directions
            else list(COUNTER_LANGUAGES)
        ),
        directions=plan.directions or None,
        language_codes=codes,
        version=f"0.0.{TWIN_VERSION}",
        description=f"TWIN (random weights) of the {plan.shape.name} shape, for timing only",
        runtime=runtime,
        checksums=False,
    )
    stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    _LOGGER.info("twin pack %s ready in %s", plan.pack_id, out)
    return out


def _install_model(
    plan: TwinPackPlan, out: Path, tokenizer: Path, codes: dict[str, str], seed: int
) -> tuple[list[str], dict[str, Any]]:
    """The tokenizer copied and the twin model built into ``out``; returns (target vocabulary, runtime).

    ``m2m100``: one vocabulary with ``<pad>`` and the language ``codes``, decoder start ``</s>``; pair
    packs: source and target vocabularies of their own, decoder start ``<s>``.
    """
    pieces = spm_pieces(tokenizer)
    if plan.fmt == "m2m100":
        src_vocab = tgt_vocab = _fill(pieces, plan.shape.source_vocab_size, "t", ["<pad>", *codes.values()])
        spm_name, decoder_start = "sentencepiece.bpe.model", "</s>"
    else:
        src_vocab = _fill(pieces, plan.shape.source_vocab_size, "t")
        tgt_vocab = _fill(pieces, plan.shape.target_vocab_size, "u")
        spm_name, decoder_start = "spm.model", "<s>"
    shutil.copyfile(tokenizer, out / spm_name)
    build_model(
        plan.shape,
        out,
        source_vocabulary=src_vocab,
        target_vocabulary=tgt_vocab,
        banned_target_tokens=["<unk>", "<s>", "</s>", "<pad>", *codes.values()],
        decoder_start_token=decoder_start,
        seed=seed,
    )
    return tgt_vocab, {"model_dir": ".", "source_spm": spm_name, "target_spm": spm_name}


@dataclass(frozen=True)
class TwinStores:
    """The two bench stores of a scale: ``shallow`` (quickmt-like pair packs) and ``coverage`` (M2M-100)."""

    scale: TwinScale
    shallow: Path
    coverage: Path
    tokenizer: Path


def prepare_twin_stores(scale: TwinScale, text_dir: Path, cache: Path | None = None) -> TwinStores:
    """Build (or reuse) the twin packs of ``scale``: ``xx→en`` and ``en→xx`` pair packs (direct for ja⇄en,
    pivot through English for the other pairs) and one multilingual coverage pack with a vocabulary map."""
    cache = cache or twins_cache_dir()
    tokenizer = bench_tokenizer(scale, text_dir, cache)
    root = cache / scale.name
    # Fixed directions (every counter language) so that one cached build serves every run.
    others = [lang for lang in COUNTER_LANGUAGES if lang != "en"]
    into_en = sorted((lang, "en") for lang in others)
    from_en = sorted(("en", lang) for lang in others)
    shallow = root / "shallow"
    # One pack per side: the pair packs of one shape time alike, so xx→en share one model and en→xx one.
    for pack_id, directions in (("twin-shallow-xx-en", into_en), ("twin-shallow-en-xx", from_en)):
        if directions:
            plan = TwinPackPlan(pack_id, "ct2-sentencepiece", scale.shallow, tuple(directions))
            build_twin_pack(plan, shallow, tokenizer)
    coverage = root / "coverage"
    build_twin_pack(
        TwinPackPlan("twin-coverage", "m2m100", scale.coverage, None, vmap=True), coverage, tokenizer
    )
    return TwinStores(scale, shallow, coverage, tokenizer)


@dataclass
class TwinRouter:
    """``MtRouter`` over twin packs: real routing, loading and decoding; length forced; text stood in.

    Attributes:
        router: The ``edge.translate.router.MtRouter`` over a twin store.
        tokenizer: Path of the sentencepiece model the twins use (to count source tokens).
        length_factor: Output tokens per source token (ratio).
        stand_in: Text returned instead of the twin's output for the next turns (None: keep the output).
        last: Details of the last call: ``forced_tokens``, ``source_tokens``, ``timings_ms``.
    """

    router: Any
    tokenizer: Path
    length_factor: float = 1.2
    stand_in: str | None = None
    last: dict[str, Any] = field(default_factory=dict)
    _sp: Any = None

    def __post_init__(self) -> None:
        import sentencepiece as spm

        self._sp = spm.SentencePieceProcessor(model_file=str(self.tokenizer))

    @property
    def options(self) -> Any:
        return self.router.options

    @options.setter
    def options(self, value: Any) -> None:
        self.router.options = value

    def can_translate(self, source: str, target: str) -> bool:
        return bool(self.router.can_translate(source, target))

    def missing_hint(self, source: str, target: str) -> str:
        return str(self.router.missing_hint(source, target))

    def warm(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.router.warm(pairs)

    def forced_length(self, text: str) -> tuple[int, int]:
        """(source tokens of the longest sentence, forced output length) for ``text``."""
        from edge.translate.router import split_sentences

        sentences = split_sentences(text) or [text]
        tokens = max(len(self._sp.encode(sentence, out_type=str)) for sentence in sentences)
        return tokens, max(1, math.ceil(self.length_factor * tokens))

    def translate(self, text: str, source: str, target: str) -> Any:
        source_tokens, forced = self.forced_length(text)
        self.router.options = replace(
            self.router.options, min_decoding_length=forced, max_decoding_length=forced
        )
        translation = self.router.translate(text, source, target)
        self.last = {
            "source_tokens": source_tokens,
            "forced_tokens": forced,
            "timings_ms": dict(translation.timings_ms),
            "pack_ids": list(translation.pack_ids),
        }
        if self.stand_in is not None:
            translation.text = self.stand_in
        elif not translation.text.strip():
            translation.text = "(twin output)"
        return translation
