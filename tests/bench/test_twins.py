"""Random-weight twins: the saved CTranslate2 models have the declared architecture and vocabularies."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import ctranslate2
import pytest
import sentencepiece as spm

from bench.tiny_packs import build_tiny_translator
from bench.twins import (
    M2M100_418M,
    NLLB_600M,
    OPUS_MT,
    QUICKMT,
    SHAPES,
    TINY,
    build_model,
    synthetic_vocabulary,
)
from tests.support.data import REPO_DIR


def _vocab_sizes(model_dir: Path) -> dict[str, int]:
    return {
        p.stem: len(json.loads(p.read_text(encoding="utf-8"))) for p in model_dir.glob("*_vocabulary.json")
    }


def test_named_shapes_match_the_real_models() -> None:
    assert (QUICKMT.encoder_layers, QUICKMT.decoder_layers, QUICKMT.d_model, QUICKMT.num_heads) == (
        8,
        2,
        1024,
        16,
    )
    assert not QUICKMT.shared_embeddings and QUICKMT.target_vocab_size == 20_000
    assert (M2M100_418M.encoder_layers, M2M100_418M.source_vocab_size) == (12, 128_112)
    assert NLLB_600M.source_vocab_size == 256_206
    assert 380e6 < M2M100_418M.parameter_count < 500e6  # "418M"
    assert 550e6 < NLLB_600M.parameter_count < 680e6  # "600M"
    assert set(SHAPES) == {"tiny", "opus-mt", "quickmt", "m2m100-418m", "nllb-600m"}


def test_layer_count_shows_in_model_size(tmp_path: Path) -> None:
    small = replace(OPUS_MT, source_vocab_size=1000, target_vocab_size=1000, d_model=64, ffn_dim=256)
    one = build_model(replace(small, encoder_layers=1, decoder_layers=1), tmp_path / "one")
    six = build_model(small, tmp_path / "six")
    per_layer = (six / "model.bin").stat().st_size - (one / "model.bin").stat().st_size
    assert per_layer > 10 * (64 * 64 * 4)  # ten more layers of int8 weights
    assert _vocab_sizes(six) == {"shared_vocabulary": 1000}
    translator = ctranslate2.Translator(str(six), device="cpu", intra_threads=1)
    out = translator.translate_batch(
        [["\u2581t5", "\u2581t9"]], beam_size=1, max_decoding_length=7, min_decoding_length=7
    )
    assert len(out[0].hypotheses[0]) == 7  # forced length: the bench's fixed-token timing relies on it


def test_separate_vocabularies(tmp_path: Path) -> None:
    shape = replace(
        QUICKMT, d_model=32, ffn_dim=64, num_heads=4, source_vocab_size=300, target_vocab_size=200
    )
    model = build_model(shape, tmp_path / "q")
    assert _vocab_sizes(model) == {"source_vocabulary": 300, "target_vocabulary": 200}


def test_tiny_translator_pack_is_complete(tmp_path: Path) -> None:
    pack = build_tiny_translator(tmp_path / "m2m", ("ja", "en", "vi"), fmt="m2m100", directions=None)
    manifest = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "m2m100" and manifest["directions"] is None
    assert manifest["language_codes"]["vi"] == "__vi__"
    vocab = json.loads((pack / "shared_vocabulary.json").read_text(encoding="utf-8"))
    assert {"__ja__", "__en__", "__vi__", "</s>"} <= set(vocab)
    sp = spm.SentencePieceProcessor(model_file=str(pack / "sentencepiece.bpe.model"))
    assert vocab[: sp.get_piece_size()] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    listed = {f["path"] for f in manifest["files"]}
    assert {"model.bin", "sentencepiece.bpe.model", "shared_vocabulary.json", "config.json"} <= listed


def test_argos_layout(tmp_path: Path) -> None:
    pack = build_tiny_translator(tmp_path / "argos", ("en", "vi"), fmt="argos")
    assert (pack / "model" / "model.bin").is_file() and (pack / "sentencepiece.model").is_file()
    assert json.loads((pack / "metadata.json").read_text(encoding="utf-8"))["to_code"] == "vi"


def test_unknown_format_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown tiny pack format"):
        build_tiny_translator(tmp_path, fmt="marian")
    assert synthetic_vocabulary(10)[:3] == ["<unk>", "<s>", "</s>"] and TINY.d_model == 64


@pytest.mark.slow
def test_quickmt_twin_full_size(tmp_path: Path) -> None:
    """Built in a child process: the ~200 M random float32 weights (0.8 GB) never sit in the test process."""
    model = tmp_path / "quickmt"
    build = "import sys; from pathlib import Path; from bench.twins import QUICKMT, build_model; "
    build += "build_model(QUICKMT, Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", build, str(model)], check=True, timeout=600, cwd=REPO_DIR)
    assert _vocab_sizes(model) == {"source_vocabulary": 20_000, "target_vocabulary": 20_000}
    size = (model / "model.bin").stat().st_size
    assert 0.9 * QUICKMT.parameter_count < size < 1.3 * QUICKMT.parameter_count  # int8: ~1 byte per weight
