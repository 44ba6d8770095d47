"""Tiny but real CTranslate2 translators (random weights, 1 layer) for the tests, built once per process.

``build_store(root, ("tiny-ja-en",))`` gives a real pack store of TINY twin packs (each pack is built once
per test process and copied); ``build_tiny_translator``/``build_tiny_marian`` write bare model directories
the way real packs are converted.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from bench import tiny_packs
from bench.twins import train_sentencepiece
from models import PackStore

#: pack id → (format, languages, directions or None for multilingual)
TINY_PACKS: dict[str, tuple[str, tuple[str, ...], list[tuple[str, str]] | None]] = {
    "tiny-ja-en": ("ct2-sentencepiece", ("ja", "en"), [("ja", "en")]),
    "tiny-en-vi": ("argos", ("en", "vi"), [("en", "vi")]),
    "tiny-en-ko": ("ct2-sentencepiece-shared", ("en", "ko"), [("en", "ko")]),
    "tiny-ja-es": ("opus-mt", ("ja", "es"), [("ja", "es")]),
    "tiny-m2m": ("m2m100", ("ja", "en", "tl", "ne"), None),
}

_FALLBACK = [
    "住民票の写しを取りに来ました。",
    "こちらの用紙に記入してください。",
    "I would like a copy of my residence certificate.",
    "Please fill in this form.",
]


@functools.cache
def _built_packs_dir() -> Path:
    """A temporary directory of this process holding each tiny pack built once (removed at exit)."""
    path = Path(tempfile.mkdtemp(prefix="madoguchi-tiny-packs-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def _built_pack(pack_id: str) -> Path:
    fmt, langs, directions = TINY_PACKS[pack_id]
    out = _built_packs_dir() / pack_id
    tiny_packs.build_tiny_translator(out, langs, fmt=fmt, directions=directions, pack_id=pack_id)
    return out


def build_store(root: Path, pack_ids: tuple[str, ...] = tuple(TINY_PACKS)) -> PackStore:
    """The named tiny packs copied into ``root`` (one directory each); returns the real store over them."""
    root.mkdir(parents=True, exist_ok=True)
    for pack_id in pack_ids:
        shutil.copytree(_built_pack(pack_id), root / pack_id, dirs_exist_ok=True)
    return PackStore(root)


def corpus_lines(eval_dir: Path, count: int = 400) -> list[str]:
    """Japanese and English lines of the Tatoeba corpus in ``eval_dir`` (a fixed fallback when absent)."""
    path = eval_dir / "text" / "tatoeba_manythings_eng-jpn" / "jpn.txt"
    if not path.is_file():
        return _FALLBACK * 50
    lines: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for row in itertools.islice(handle, count):
            lines.extend(part for part in row.rstrip("\n").split("\t")[:2] if part)
    return lines


def train_spm(lines: list[str], model_path: Path, vocab_size: int = 500) -> list[str]:
    """Train a unigram sentencepiece model; returns its pieces (the CTranslate2 vocabulary)."""
    import sentencepiece as spm

    train_sentencepiece(lines, model_path, vocab_size=vocab_size, character_coverage=0.995)
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def build_tiny_translator(out_dir: Path, vocabulary: list[str], *, d_model: int = 32, seed: int = 0) -> Path:
    """Save a 1+1-layer, 2-head Transformer with random weights as a CTranslate2 model directory."""
    from ctranslate2.specs import TransformerSpec

    rng = np.random.default_rng(seed)
    d, ffn_dim, n = d_model, 2 * d_model, len(vocabulary)

    def w(*dims: int) -> np.ndarray:
        return (rng.standard_normal(dims) * 0.5).astype(np.float32)

    def norm(spec) -> None:
        spec.gamma, spec.beta = np.ones(d, np.float32), np.zeros(d, np.float32)

    def linear(spec, out_dim: int, in_dim: int) -> None:
        spec.weight, spec.bias = w(out_dim, in_dim), np.zeros(out_dim, np.float32)

    spec = TransformerSpec.from_config(1, 2)
    spec.encoder.embeddings[0].weight = w(n, d)
    spec.decoder.embeddings.weight = w(n, d)
    norm(spec.encoder.layer_norm)
    norm(spec.decoder.layer_norm)
    blocks = [(spec.encoder.layer[0], False), (spec.decoder.layer[0], True)]
    for layer, is_decoder in blocks:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * d, d)
        linear(layer.self_attention.linear[1], d, d)
        if is_decoder:
            norm(layer.attention.layer_norm)
            linear(layer.attention.linear[0], d, d)
            linear(layer.attention.linear[1], 2 * d, d)
            linear(layer.attention.linear[2], d, d)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, ffn_dim, d)
        linear(layer.ffn.linear_1, d, ffn_dim)
    linear(spec.decoder.projection, n, d)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization="int8")
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    return out_dir


def zip_dir(directory: Path, archive: Path, *, top: str | None = None) -> Path:
    """Zip ``directory`` as Argos does: everything under one top-level folder (``top``, default its name)."""
    top = directory.name if top is None else top
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                zf.write(
                    path, str(Path(top) / path.relative_to(directory)) if top else path.relative_to(directory)
                )
    return archive


def build_tiny_marian(out_dir: Path, vocabulary: list[str], *, d_model: int = 16, seed: int = 0) -> Path:
    """An OPUS-MT-shaped Marian directory (``decoder.yml``, ``model.npz``, ``vocab.yml``), 1+1 layers.

    Post-norm Transformer with the weight names Marian writes; ``ctranslate2.converters.OpusMTConverter``
    reads it like a real OPUS-MT release.
    """
    vocab = ["</s>", "<unk>", *(p for p in vocabulary if p not in ("</s>", "<unk>", "<s>"))]
    rng = np.random.default_rng(seed)
    d, ffn_dim, n = d_model, 2 * d_model, len(vocab)
    weights: dict[str, np.ndarray] = {"Wemb": rng.standard_normal((n, d)).astype(np.float32)}

    def dense(scope: str, suffix: str, in_dim: int, out_dim: int) -> None:
        weights[f"{scope}_W{suffix}"] = rng.standard_normal((in_dim, out_dim)).astype(np.float32) * 0.3
        weights[f"{scope}_b{suffix}"] = np.zeros((1, out_dim), np.float32)

    def norm(scope: str) -> None:
        weights[f"{scope}_ln_scale"] = np.ones((1, d), np.float32)
        weights[f"{scope}_ln_bias"] = np.zeros((1, d), np.float32)

    def attention(scope: str) -> None:
        for suffix in ("q", "k", "v", "o"):
            dense(scope, suffix, d, d)
        norm(f"{scope}_Wo")

    def ffn(scope: str) -> None:
        dense(scope, "1", d, ffn_dim)
        dense(scope, "2", ffn_dim, d)
        norm(f"{scope}_ffn")

    attention("encoder_l1_self")
    ffn("encoder_l1_ffn")
    attention("decoder_l1_self")
    attention("decoder_l1_context")
    ffn("decoder_l1_ffn")
    weights["decoder_ff_logit_out_b"] = np.zeros((1, n), np.float32)
    config = (
        "type: transformer\nenc-depth: 1\ndec-depth: 1\ntransformer-heads: 2\n"
        "transformer-ffn-activation: swish\ntransformer-preprocess: ''\ntransformer-postprocess: dan\n"
        "transformer-postprocess-emb: d\ntransformer-decoder-autoreg: self-attention\n"
        "transformer-no-projection: false\ntransformer-guided-alignment-layer: last\n"
    )
    weights["special:model.yml"] = np.frombuffer(config.encode() + b"\0", dtype=np.int8)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez(out_dir / "opus.npz", **weights)
    lines = [f'"{token}": {index}' if '"' not in token and "\\" not in token else f"'{token}': {index}"
             for index, token in enumerate(vocab)]  # fmt: skip
    (out_dir / "opus.vocab.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / "decoder.yml").write_text(
        "models:\n  - opus.npz\nvocabs:\n  - opus.vocab.yml\n  - opus.vocab.yml\n", encoding="utf-8"
    )
    return out_dir
