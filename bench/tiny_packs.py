"""Tiny translators: a real sentencepiece model + the TINY twin, written as an installed MT pack.

The tests load them through the real pack-loading path of ``edge.translate.router``; each format is laid
out the way its real packs are converted.

    build_tiny_translator(out_dir, fmt="m2m100")      # a full pack directory with pack.json
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.twins import TINY, build_model, spm_pieces, train_sentencepiece, write_twin_pack_json

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
_NLLB_CODES = {"ja": "jpn_Jpan", "en": "eng_Latn", "tl": "tgl_Latn", "ne": "npi_Deva", "vi": "vie_Latn"}

TINY_FORMATS = ("ct2-sentencepiece", "ct2-sentencepiece-shared", "m2m100", "nllb", "argos", "opus-mt")


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


@dataclass
class _Payload:
    """The tokenizer side of a tiny pack: vocabularies, runtime block and how the model is converted."""

    src_vocab: list[str]
    tgt_vocab: list[str]
    runtime: dict[str, Any]
    model_dir: Path
    shared_embeddings: bool = True
    decoder_start: str = "<s>"
    add_source_eos: bool = False
    language_codes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Corpus:
    """What a format's tokenizer is trained on."""

    lines: list[str]
    langs: Sequence[str]
    vocab_size: int
    rng: np.random.Generator


def _pair_spm(out: Path, corpus: _Corpus) -> _Payload:
    """Separate source and target sentencepiece models (quickmt)."""
    lines = corpus.lines
    half = len(lines) // 2
    order = corpus.rng.permutation(len(lines))
    src = train_sentencepiece(
        [lines[i] for i in order[:half]], out / "src.spm.model", vocab_size=corpus.vocab_size
    )
    tgt = train_sentencepiece(
        [lines[i] for i in order[half:]], out / "tgt.spm.model", vocab_size=corpus.vocab_size
    )
    runtime = {"model_dir": ".", "source_spm": "src.spm.model", "target_spm": "tgt.spm.model"}
    return _Payload(spm_pieces(src), spm_pieces(tgt), runtime, out, shared_embeddings=False)


def _shared_spm(out: Path, corpus: _Corpus) -> _Payload:
    """One sentencepiece model for both sides, ``</s>`` appended to the source."""
    train_sentencepiece(corpus.lines, out / "spm.model", vocab_size=corpus.vocab_size)
    vocab = spm_pieces(out / "spm.model")
    runtime = {
        "model_dir": ".",
        "source_spm": "spm.model",
        "target_spm": "spm.model",
        "source_suffix": ["</s>"],
    }
    return _Payload(vocab, vocab, runtime, out)


def _multilingual(fmt: str) -> Callable[[Path, _Corpus], _Payload]:
    """M2M-100 (``__xx__``) or NLLB (``jpn_Jpan``) language tokens, as ct2-transformers-converter writes
    them: language tokens in the vocabulary, ``</s>`` from the tokenizer (no add_source_eos), decoder
    start ``</s>``."""

    def build(out: Path, corpus: _Corpus) -> _Payload:
        train_sentencepiece(corpus.lines, out / "sentencepiece.bpe.model", vocab_size=corpus.vocab_size)
        codes = (
            {lang: f"__{lang}__" for lang in corpus.langs}
            if fmt == "m2m100"
            else {lang: _NLLB_CODES[lang] for lang in corpus.langs}
        )
        vocab = [*spm_pieces(out / "sentencepiece.bpe.model"), "<pad>", *codes.values()]
        runtime = {
            "model_dir": ".",
            "source_spm": "sentencepiece.bpe.model",
            "target_spm": "sentencepiece.bpe.model",
        }
        return _Payload(vocab, vocab, runtime, out, decoder_start="</s>", language_codes=codes)

    return build


def _argos(out: Path, corpus: _Corpus) -> _Payload:
    """An Argos package: ``model/`` subdirectory, ``sentencepiece.model`` and ``metadata.json``."""
    src_lang, tgt_lang = corpus.langs[0], corpus.langs[1]
    train_sentencepiece(corpus.lines, out / "sentencepiece.model", vocab_size=corpus.vocab_size)
    vocab = spm_pieces(out / "sentencepiece.model")
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
    # OpenNMT-py converted (as Argos packages are): no implicit </s>
    return _Payload(vocab, vocab, runtime, out / "model", add_source_eos=False)


def _opus_mt(out: Path, corpus: _Corpus) -> _Payload:
    """Marian style: ``source.spm``/``target.spm``, ``</s>`` added by the model."""
    lines = corpus.lines
    half = len(lines) // 2
    train_sentencepiece(lines[:half] + lines[half:], out / "source.spm", vocab_size=corpus.vocab_size)
    shutil.copyfile(out / "source.spm", out / "target.spm")
    vocab = [*spm_pieces(out / "source.spm"), "<pad>"]
    runtime = {"model_dir": ".", "source_spm": "source.spm", "target_spm": "target.spm"}
    return _Payload(vocab, vocab, runtime, out, decoder_start="</s>", add_source_eos=True)


_PAYLOADS: dict[str, Callable[[Path, _Corpus], _Payload]] = {
    "ct2-sentencepiece": _pair_spm,
    "ct2-sentencepiece-shared": _shared_spm,
    "m2m100": _multilingual("m2m100"),
    "nllb": _multilingual("nllb"),
    "argos": _argos,
    "opus-mt": _opus_mt,
}


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
    payload = _PAYLOADS[fmt](out, _Corpus(lines, langs, vocab_size, np.random.default_rng(seed)))
    if directions is None and fmt not in ("m2m100", "nllb"):
        directions = [(langs[0], langs[1])]
    build_model(
        replace(TINY, shared_embeddings=payload.shared_embeddings),
        payload.model_dir,
        source_vocabulary=payload.src_vocab,
        target_vocabulary=payload.tgt_vocab,
        banned_target_tokens=["<unk>", "<s>", "</s>", "<pad>", *payload.language_codes.values()],
        decoder_start_token=payload.decoder_start,
        add_source_eos=payload.add_source_eos,
        seed=seed,
    )
    write_twin_pack_json(
        out,
        pack_id=pack_id or f"tiny-{fmt}-" + ("multi" if directions is None else f"{langs[0]}-{langs[1]}"),
        fmt="ct2-sentencepiece" if fmt == "ct2-sentencepiece-shared" else fmt,
        languages=list(langs) if directions is None else sorted({x for d in directions for x in d}),
        directions=directions,
        language_codes=payload.language_codes,
        version="0.0.1",
        description=f"Random-weight TINY twin ({fmt}) for tests",
        runtime=payload.runtime,
        checksums=True,
    )
    return out
