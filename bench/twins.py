"""Random-weight "twins" of the real MT models, built with ``ctranslate2.specs``.

A twin has the exact architecture of a real pack (layer counts, widths, vocabulary sizes) but random
weights, so it costs the same CPU time and memory per token as the real model while being built in
seconds from nothing. The benchmark times twins where the real weights cannot be downloaded; the
tests load a TINY twin through the real pack-loading path of ``edge.translate.router``
(``bench.tiny_packs``). Timing of twins is in ``bench.twin_timing``.

    shape = OPUS_MT
    build_model(shape, out_dir)                       # a CTranslate2 model directory
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from madoguchi.files import file_sha256

_LOGGER = logging.getLogger(__name__)

#: Pieces every twin vocabulary starts with (sentencepiece defaults: unk=0, bos=1, eos=2).
SPECIAL_TOKENS: tuple[str, ...] = ("<unk>", "<s>", "</s>")
#: Output bias that keeps the decoder from choosing a token (specials, language codes).
_BANNED_BIAS = -1.0e4


@dataclass(frozen=True)
class TwinShape:
    """Architecture of a CTranslate2 Transformer (sizes only, no weights)."""

    name: str
    encoder_layers: int
    decoder_layers: int
    d_model: int
    ffn_dim: int
    num_heads: int
    source_vocab_size: int
    target_vocab_size: int
    shared_embeddings: bool = True
    pre_norm: bool = True

    @property
    def parameter_count(self) -> int:
        """Number of weights (embeddings counted once when shared)."""
        d, f = self.d_model, self.ffn_dim
        enc_layer = 4 * d * d + 2 * d * f + 9 * d + f
        dec_layer = 8 * d * d + 2 * d * f + 15 * d + f
        emb = self.source_vocab_size * d
        if not self.shared_embeddings:
            emb += 2 * self.target_vocab_size * d
        return self.encoder_layers * enc_layer + self.decoder_layers * dec_layer + emb + 4 * d


TINY = TwinShape("tiny", 1, 1, 64, 128, 4, 512, 512, shared_embeddings=True)
OPUS_MT = TwinShape("opus-mt", 6, 6, 512, 2048, 8, 60_000, 60_000, shared_embeddings=True, pre_norm=False)
QUICKMT = TwinShape("quickmt", 8, 2, 1024, 4096, 16, 20_000, 20_000, shared_embeddings=False)
M2M100_418M = TwinShape("m2m100-418m", 12, 12, 1024, 4096, 16, 128_112, 128_112, shared_embeddings=True)
NLLB_600M = TwinShape("nllb-600m", 12, 12, 1024, 4096, 16, 256_206, 256_206, shared_embeddings=True)

SHAPES: dict[str, TwinShape] = {s.name: s for s in (TINY, OPUS_MT, QUICKMT, M2M100_418M, NLLB_600M)}


def synthetic_vocabulary(size: int, *, extra: Sequence[str] = (), stem: str = "t") -> list[str]:
    """``size`` tokens: the specials, ``extra`` tokens, then ``▁<stem><i>`` filler pieces."""
    head = list(SPECIAL_TOKENS) + [t for t in extra if t not in SPECIAL_TOKENS]
    return head + [f"\u2581{stem}{i}" for i in range(size - len(head))]


def build_model(
    shape: TwinShape,
    out_dir: Path | str,
    *,
    source_vocabulary: Sequence[str] | None = None,
    target_vocabulary: Sequence[str] | None = None,
    banned_target_tokens: Iterable[str] = ("<unk>", "<s>", "</s>"),
    decoder_start_token: str | None = "<s>",
    add_source_eos: bool = False,
    seed: int = 0,
    quantization: str | None = "int8",
    weight_std: float | None = None,
) -> Path:
    """Build a random Transformer of ``shape`` and save it as a CTranslate2 model directory.

    Vocabularies default to synthetic ones of the shape's sizes; when given, the shape's sizes follow
    them. ``banned_target_tokens`` get a very negative output bias so that greedy search never emits
    them (a random model would otherwise stop at once or emit ``<unk>``): the decoder therefore runs
    until ``max_decoding_length``, which makes timing exact. ``weight_std`` defaults to
    ``8 / sqrt(d_model)``: large enough that the output depends on the source. Returns ``out_dir``.
    """
    from ctranslate2.specs import TransformerSpec

    src_vocab, tgt_vocab = _vocabularies(shape, source_vocabulary, target_vocabulary)
    shape = replace(shape, source_vocab_size=len(src_vocab), target_vocab_size=len(tgt_vocab))
    std = weight_std if weight_std is not None else 8.0 / float(np.sqrt(shape.d_model))
    weights = _RandomWeights(np.random.default_rng(seed), std, shape.d_model, shape.ffn_dim)
    spec = TransformerSpec.from_config(
        (shape.encoder_layers, shape.decoder_layers), shape.num_heads, pre_norm=shape.pre_norm
    )
    _fill_weights(spec, shape, weights, shared=shape.shared_embeddings and src_vocab == tgt_vocab)
    spec.decoder.projection.bias = _output_bias(tgt_vocab, banned_target_tokens)
    spec.config.decoder_start_token = decoder_start_token
    spec.config.add_source_eos = add_source_eos
    spec.register_source_vocabulary(src_vocab)
    spec.register_target_vocabulary(tgt_vocab)
    spec.validate()
    spec.optimize(quantization=quantization)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec.save(str(out))
    _LOGGER.info("built %s twin in %s (%d parameters)", shape.name, out, shape.parameter_count)
    return out


def _vocabularies(
    shape: TwinShape, source: Sequence[str] | None, target: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """(source, target) vocabularies: the given ones, else synthetic ones of the shape's sizes."""
    src_vocab = list(source) if source else synthetic_vocabulary(shape.source_vocab_size)
    if target:
        return src_vocab, list(target)
    if shape.shared_embeddings:
        return src_vocab, src_vocab
    return src_vocab, synthetic_vocabulary(shape.target_vocab_size, stem="u")


class _RandomWeights:
    """Fills the parts of a ``TransformerSpec`` with seeded normal weights (norms: 1 and 0, biases: 0)."""

    def __init__(self, rng: np.random.Generator, std: float, d_model: int, ffn_dim: int) -> None:
        self.rng, self.std, self.d, self.f = rng, std, d_model, ffn_dim

    def matrix(self, *dims: int) -> np.ndarray:
        return (self.rng.standard_normal(dims, dtype=np.float32) * self.std).astype(np.float32, copy=False)

    def norm(self, spec: Any) -> None:
        spec.gamma = np.ones(self.d, dtype=np.float32)
        spec.beta = np.zeros(self.d, dtype=np.float32)

    def linear(self, spec: Any, out_dim: int, in_dim: int) -> None:
        spec.weight = self.matrix(out_dim, in_dim)
        spec.bias = np.zeros(out_dim, dtype=np.float32)

    def attention(self, spec: Any, *, self_attention: bool) -> None:
        d = self.d
        self.norm(spec.layer_norm)
        if self_attention:
            self.linear(spec.linear[0], 3 * d, d)
            self.linear(spec.linear[1], d, d)
        else:
            self.linear(spec.linear[0], d, d)
            self.linear(spec.linear[1], 2 * d, d)
            self.linear(spec.linear[2], d, d)

    def ffn(self, spec: Any) -> None:
        self.norm(spec.layer_norm)
        self.linear(spec.linear_0, self.f, self.d)
        self.linear(spec.linear_1, self.d, self.f)


def _fill_weights(spec: Any, shape: TwinShape, weights: _RandomWeights, *, shared: bool) -> None:
    """Embeddings, layers and output projection of ``spec`` (``shared``: one embedding for both sides)."""
    src_emb = weights.matrix(shape.source_vocab_size, shape.d_model)
    spec.encoder.embeddings[0].weight = src_emb
    if shape.pre_norm:
        weights.norm(spec.encoder.layer_norm)
        weights.norm(spec.decoder.layer_norm)
    for layer in spec.encoder.layer:
        weights.attention(layer.self_attention, self_attention=True)
        weights.ffn(layer.ffn)
    tgt_emb = src_emb if shared else weights.matrix(shape.target_vocab_size, shape.d_model)
    spec.decoder.embeddings.weight = tgt_emb
    for layer in spec.decoder.layer:
        weights.attention(layer.self_attention, self_attention=True)
        weights.attention(layer.attention, self_attention=False)
        weights.ffn(layer.ffn)
    projection = (
        tgt_emb if shape.shared_embeddings else weights.matrix(shape.target_vocab_size, shape.d_model)
    )
    spec.decoder.projection.weight = projection


def _output_bias(vocabulary: Sequence[str], banned: Iterable[str]) -> np.ndarray:
    """Zero output bias, very negative on the ``banned`` tokens."""
    bias = np.zeros(len(vocabulary), dtype=np.float32)
    index = {tok: i for i, tok in enumerate(vocabulary)}
    for tok in banned:
        if tok in index:
            bias[index[tok]] = _BANNED_BIAS
    return bias


# --------------------------------------------------------------------------------------------------
# Tokenizers and pack manifests of twin packs (``bench.twin_packs``, ``bench.tiny_packs``)


def train_sentencepiece(
    lines: Iterable[str], model_path: Path, *, vocab_size: int = 500, character_coverage: float = 1.0
) -> Path:
    """Train a unigram sentencepiece model on ``lines`` (the one trainer of the twins and the tests).

    A ``character_coverage`` below 1 sends rare characters (CJK) to ``<unk>``, as in real packs.
    Writes ``model_path`` and returns it.
    """
    import sentencepiece as spm

    model_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(Path(tmp) / "spm"),
            vocab_size=vocab_size,
            hard_vocab_limit=False,
            character_coverage=character_coverage,
            model_type="unigram",
            minloglevel=2,
        )
        shutil.copyfile(Path(tmp) / "spm.model", model_path)
    return model_path


def spm_pieces(model_path: Path) -> list[str]:
    """Every piece of a sentencepiece model in id order (the CTranslate2 vocabulary of a twin)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def write_twin_pack_json(
    out: Path,
    *,
    pack_id: str,
    fmt: str,
    languages: list[str],
    directions: Sequence[tuple[str, str]] | None,
    language_codes: dict[str, str],
    version: str,
    description: str,
    runtime: dict[str, Any],
    checksums: bool,
) -> Path:
    """Write ``out/pack.json`` of a twin pack over the files in ``out`` (sha256 only when ``checksums``:
    a full-size twin is hashed by nobody)."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "pack.json")
    manifest = {
        "schema": 1,
        "id": pack_id,
        "kind": "mt",
        "engine": "ctranslate2",
        "format": fmt,
        "languages": languages,
        "directions": None if directions is None else [list(d) for d in directions],
        "language_codes": language_codes,
        "version": version,
        "description": description,
        "source": {"type": "local", "path": str(out)},
        "files": [
            {
                "path": p.relative_to(out).as_posix(),
                "sha256": file_sha256(p) if checksums else None,
                "size_bytes": p.stat().st_size,
            }
            for p in files
        ],
        "size_bytes": sum(p.stat().st_size for p in files),
        "license": {"spdx": "MIT", "commercial_ok": True, "attribution": "", "source_url": ""},
        "runtime": runtime,
    }
    path = out / "pack.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
