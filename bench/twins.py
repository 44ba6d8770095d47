"""Random-weight "twins" of the real MT models, built with ``ctranslate2.specs``.

A twin has the exact architecture of a real pack (layer counts, widths, vocabulary sizes) but random
weights, so it costs the same CPU time and memory per token as the real model while being built in
seconds from nothing. The benchmark times twins where the real weights cannot be downloaded; the
tests load a TINY twin through the real pack-loading path of ``edge.translate.router``.

    shape = OPUS_MT
    build_model(shape, out_dir)                       # a CTranslate2 model directory
    build_tiny_translator(out_dir, fmt="m2m100")      # a full pack directory with pack.json
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

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

    src_vocab = (
        list(source_vocabulary) if source_vocabulary else synthetic_vocabulary(shape.source_vocab_size)
    )
    if target_vocabulary:
        tgt_vocab = list(target_vocabulary)
    elif shape.shared_embeddings:
        tgt_vocab = src_vocab
    else:
        tgt_vocab = synthetic_vocabulary(shape.target_vocab_size, stem="u")
    shared = shape.shared_embeddings and src_vocab == tgt_vocab
    shape = replace(shape, source_vocab_size=len(src_vocab), target_vocab_size=len(tgt_vocab))

    rng = np.random.default_rng(seed)
    d, f = shape.d_model, shape.ffn_dim
    std = weight_std if weight_std is not None else 8.0 / float(np.sqrt(d))

    def w(*dims: int) -> np.ndarray:
        return (rng.standard_normal(dims, dtype=np.float32) * std).astype(np.float32, copy=False)

    def norm(spec) -> None:
        spec.gamma = np.ones(d, dtype=np.float32)
        spec.beta = np.zeros(d, dtype=np.float32)

    def linear(spec, out_dim: int, in_dim: int) -> None:
        spec.weight = w(out_dim, in_dim)
        spec.bias = np.zeros(out_dim, dtype=np.float32)

    def attention(spec, *, self_attention: bool) -> None:
        norm(spec.layer_norm)
        if self_attention:
            linear(spec.linear[0], 3 * d, d)
            linear(spec.linear[1], d, d)
        else:
            linear(spec.linear[0], d, d)
            linear(spec.linear[1], 2 * d, d)
            linear(spec.linear[2], d, d)

    def ffn(spec) -> None:
        norm(spec.layer_norm)
        linear(spec.linear_0, f, d)
        linear(spec.linear_1, d, f)

    spec = TransformerSpec.from_config(
        (shape.encoder_layers, shape.decoder_layers), shape.num_heads, pre_norm=shape.pre_norm
    )
    src_emb = w(len(src_vocab), d)
    spec.encoder.embeddings[0].weight = src_emb
    if shape.pre_norm:
        norm(spec.encoder.layer_norm)
        norm(spec.decoder.layer_norm)
    for layer in spec.encoder.layer:
        attention(layer.self_attention, self_attention=True)
        ffn(layer.ffn)
    tgt_emb = src_emb if shared else w(len(tgt_vocab), d)
    spec.decoder.embeddings.weight = tgt_emb
    for layer in spec.decoder.layer:
        attention(layer.self_attention, self_attention=True)
        attention(layer.attention, self_attention=False)
        ffn(layer.ffn)
    spec.decoder.projection.weight = tgt_emb if shape.shared_embeddings else w(len(tgt_vocab), d)
    bias = np.zeros(len(tgt_vocab), dtype=np.float32)
    index = {tok: i for i, tok in enumerate(tgt_vocab)}
    for tok in banned_target_tokens:
        if tok in index:
            bias[index[tok]] = _BANNED_BIAS
    spec.decoder.projection.bias = bias

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


# --------------------------------------------------------------------------------------------------
# Tiny translators: a real sentencepiece model + the TINY twin, written as an installed pack.

_CORPUS_FILES = (
    ("tatoeba_manythings_eng-jpn/jpn.txt", (0, 1)),
    ("tatoeba_manythings_eng-vie/vie.txt", (1,)),
)
_FALLBACK_LINES = (
    "住民票の写しを取りに来ました。",
    "マイナンバーカードを持っていますか？",
    "こちらの用紙に記入してください。",
    "I would like a copy of my residence certificate.",
    "Please fill in this form.",
    "Tôi muốn lấy bản sao phiếu cư trú.",
    "Vui lòng điền vào mẫu này.",
)


def default_corpus(shared_eval_dir: Path | None = None, lines_per_file: int = 300) -> list[str]:
    """A few hundred ja/en/vi lines of Tatoeba from the evaluation text (fallback: built-in lines).

    ``shared_eval_dir`` defaults to the ``text/`` folder of the evaluation data (``resolve_eval_dir``).
    """
    if shared_eval_dir is None:
        from bench.clips import resolve_eval_dir

        shared_eval_dir = resolve_eval_dir() / "text"
    lines: list[str] = []
    for rel, columns in _CORPUS_FILES:
        path = shared_eval_dir / rel
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for i, row in enumerate(fh):
                if i >= lines_per_file:
                    break
                cols = row.rstrip("\n").split("\t")
                lines.extend(cols[c] for c in columns if c < len(cols) and cols[c].strip())
    return lines or list(_FALLBACK_LINES) * 20


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


def _spm_pieces(model_path: Path) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


TINY_FORMATS = ("ct2-sentencepiece", "ct2-sentencepiece-shared", "m2m100", "nllb", "argos", "opus-mt")


def build_tiny_translator(
    out_dir: Path | str,
    langs: Sequence[str] = ("ja", "en", "vi"),
    corpus: Iterable[str] | None = None,
    *,
    fmt: str = "ct2-sentencepiece",
    directions: Sequence[tuple[str, str]] | None = None,
    pack_id: str | None = None,
    vocab_size: int = 400,
    seed: int = 0,
) -> Path:
    """Write a complete, loadable MT pack directory (payload + ``pack.json``) with a TINY twin.

    ``fmt``: ``ct2-sentencepiece`` (separate src/tgt sentencepiece models, as quickmt),
    ``ct2-sentencepiece-shared`` (one model for both sides), ``m2m100`` (``__xx__`` language tokens) or
    ``nllb`` (``jpn_Jpan`` tokens,
    multilingual), ``argos`` (``model/`` subdir + ``sentencepiece.model`` + ``metadata.json``) or
    ``opus-mt`` (``source.spm``/``target.spm``, Marian-style ``</s>`` added by the model).
    ``directions`` defaults to ``langs[0]→langs[1]`` (``None`` = every pair for m2m100).
    """
    if fmt not in TINY_FORMATS:
        raise ValueError(f"unknown tiny pack format {fmt!r}; use one of {', '.join(TINY_FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = list(corpus) if corpus is not None else default_corpus()
    rng = np.random.default_rng(seed)
    src_lang, tgt_lang = langs[0], langs[1]
    if directions is None and fmt not in ("m2m100", "nllb"):
        directions = [(src_lang, tgt_lang)]
    pack_format = "ct2-sentencepiece" if fmt == "ct2-sentencepiece-shared" else fmt
    language_codes: dict[str, str] = {}
    shape = replace(TINY)
    decoder_start = "<s>"
    add_source_eos = False

    if fmt == "ct2-sentencepiece":
        half = len(lines) // 2
        order = rng.permutation(len(lines))
        src_model = train_sentencepiece(
            [lines[i] for i in order[:half]], out / "src.spm.model", vocab_size=vocab_size
        )
        tgt_model = train_sentencepiece(
            [lines[i] for i in order[half:]], out / "tgt.spm.model", vocab_size=vocab_size
        )
        src_vocab, tgt_vocab = _spm_pieces(src_model), _spm_pieces(tgt_model)
        shape = replace(shape, shared_embeddings=False)
        runtime: dict = {"model_dir": ".", "source_spm": "src.spm.model", "target_spm": "tgt.spm.model"}
        model_dir = out
    elif fmt == "ct2-sentencepiece-shared":
        train_sentencepiece(lines, out / "spm.model", vocab_size=vocab_size)
        src_vocab = tgt_vocab = _spm_pieces(out / "spm.model")
        runtime = {
            "model_dir": ".",
            "source_spm": "spm.model",
            "target_spm": "spm.model",
            "source_suffix": ["</s>"],
        }
        model_dir = out
    elif fmt in ("m2m100", "nllb"):
        # As ct2-transformers-converter writes them: language tokens in the vocabulary, </s> from the
        # tokenizer (no add_source_eos), decoder start </s>.
        train_sentencepiece(lines, out / "sentencepiece.bpe.model", vocab_size=vocab_size)
        nllb = {"ja": "jpn_Jpan", "en": "eng_Latn", "tl": "tgl_Latn", "ne": "npi_Deva", "vi": "vie_Latn"}
        language_codes = (
            {lang: f"__{lang}__" for lang in langs}
            if fmt == "m2m100"
            else {lang: nllb[lang] for lang in langs}
        )
        pieces = _spm_pieces(out / "sentencepiece.bpe.model")
        src_vocab = tgt_vocab = [*pieces, "<pad>", *language_codes.values()]
        runtime = {
            "model_dir": ".",
            "source_spm": "sentencepiece.bpe.model",
            "target_spm": "sentencepiece.bpe.model",
        }
        decoder_start = "</s>"
        model_dir = out
    elif fmt == "argos":
        train_sentencepiece(lines, out / "sentencepiece.model", vocab_size=vocab_size)
        src_vocab = tgt_vocab = _spm_pieces(out / "sentencepiece.model")
        metadata = {
            "package_version": "1.0",
            "argos_version": "1.0",
            "from_code": src_lang,
            "from_name": src_lang,
            "to_code": tgt_lang,
            "to_name": tgt_lang,
            "type": "translate",
        }
        (out / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        runtime = {
            "model_dir": "model",
            "source_spm": "sentencepiece.model",
            "target_spm": "sentencepiece.model",
            "metadata": metadata,
        }
        model_dir = out / "model"
        add_source_eos = False  # OpenNMT-py converted (as Argos packages are): no implicit </s>
    else:  # opus-mt
        half = len(lines) // 2
        train_sentencepiece(lines[:half] + lines[half:], out / "source.spm", vocab_size=vocab_size)
        shutil.copyfile(out / "source.spm", out / "target.spm")
        src_vocab = tgt_vocab = [*_spm_pieces(out / "source.spm"), "<pad>"]
        runtime = {"model_dir": ".", "source_spm": "source.spm", "target_spm": "target.spm"}
        decoder_start = "</s>"
        add_source_eos = True
        model_dir = out

    banned = ["<unk>", "<s>", "</s>", "<pad>", *language_codes.values()]
    build_model(
        shape,
        model_dir,
        source_vocabulary=src_vocab,
        target_vocabulary=tgt_vocab,
        banned_target_tokens=banned,
        decoder_start_token=decoder_start,
        add_source_eos=add_source_eos,
        seed=seed,
    )
    pid = pack_id or f"tiny-{fmt}-" + ("multi" if directions is None else f"{src_lang}-{tgt_lang}")
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "pack.json")
    manifest = {
        "schema": 1,
        "id": pid,
        "kind": "mt",
        "engine": "ctranslate2",
        "format": pack_format,
        "languages": list(langs) if directions is None else sorted({x for d in directions for x in d}),
        "directions": None if directions is None else [list(d) for d in directions],
        "language_codes": language_codes,
        "version": "0.0.1",
        "description": f"Random-weight TINY twin ({fmt}) for tests",
        "source": {"type": "local", "path": str(out)},
        "files": [
            {"path": p.relative_to(out).as_posix(), "sha256": file_sha256(p), "size_bytes": p.stat().st_size}
            for p in files
        ],
        "size_bytes": sum(p.stat().st_size for p in files),
        "license": {"spdx": "MIT", "commercial_ok": True, "attribution": "", "source_url": ""},
        "runtime": runtime,
    }
    (out / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------------------
# Timing: fixed-length greedy decoding on the CPU.


def measure_decode(
    model_dir: Path | str, *, tokens: int = 20, threads: int = 2, repeats: int = 5, compute_type: str = "int8"
) -> dict[str, float]:
    """Time ``tokens``→``tokens`` greedy decoding (length forced) on ``model_dir``; median of ``repeats``.

    Returns ``load_s``, ``decode_ms`` (median), ``decode_ms_min`` and ``peak_rss_mb`` (of this process).
    """
    import statistics
    import time

    import ctranslate2

    t0 = time.perf_counter()
    translator = ctranslate2.Translator(
        str(model_dir), device="cpu", compute_type=compute_type, intra_threads=threads, inter_threads=1
    )
    load_s = time.perf_counter() - t0
    vocab_file = next(Path(model_dir).glob("s*_vocabulary.json"))
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    source = [vocab[3 + (i * 7919) % (len(vocab) - 3)] for i in range(tokens)]
    samples = []
    for _ in range(repeats + 1):  # first run warms caches
        t = time.perf_counter()
        translator.translate_batch(
            [source], beam_size=1, max_decoding_length=tokens, min_decoding_length=tokens
        )
        samples.append((time.perf_counter() - t) * 1000.0)
    samples = samples[1:]
    return {
        "load_s": load_s,
        "decode_ms": statistics.median(samples),
        "decode_ms_min": min(samples),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM; ru_maxrss survives fork+exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_decode_isolated(model_dir: Path | str, **kwargs: int | str) -> dict[str, float]:
    """``measure_decode`` in a fresh Python process, so ``peak_rss_mb`` is the model's alone."""
    import subprocess
    import sys

    code = (
        "import json,sys;from bench.twins import measure_decode;"
        f"print(json.dumps(measure_decode({str(model_dir)!r}, **{kwargs!r})))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def benchmark_twins(
    names: Sequence[str] = tuple(SHAPES),
    work_dir: Path | str | None = None,
    *,
    tokens: int = 20,
    threads: int = 2,
) -> list[dict[str, float | str]]:
    """Build each named twin (int8) and time ``tokens``→``tokens`` greedy decoding in a fresh process.

    Rows: ``shape``, ``build_s``, ``model_mb``, ``load_s``, ``decode_ms``, ``decode_ms_min``,
    ``ms_per_token``, ``peak_rss_mb``. Twins are deleted after timing unless ``work_dir`` is given.
    """
    import time

    rows: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(work_dir) if work_dir is not None else Path(tmp)
        for name in names:
            out = base / name
            t0 = time.perf_counter()
            build_model(SHAPES[name], out)
            build_s = time.perf_counter() - t0
            row: dict[str, float | str] = {"shape": name, "build_s": round(build_s, 2)}
            row["model_mb"] = round((out / "model.bin").stat().st_size / 1e6, 1)
            row.update(measure_decode_isolated(out, tokens=tokens, threads=threads, repeats=7))
            row["ms_per_token"] = round(float(row["decode_ms_min"]) / tokens, 2)
            rows.append(row)
            if work_dir is None:
                shutil.rmtree(out, ignore_errors=True)
    return rows
