"""Per-format token layouts around real sentencepiece pieces (what CTranslate2 receives and returns)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench.tiny_packs import build_tiny_translator
from edge.errors import EngineUnavailable
from edge.translate.tokenize import PackCodec, PackView


def _view(pack_dir: Path, fmt: str, runtime: dict, codes: dict | None = None) -> PackView:
    return PackView(id=pack_dir.name, path=pack_dir, format=fmt, runtime=runtime, language_codes=codes or {})


@pytest.fixture(scope="module")
def spm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("m2m") / "m2m"
    return build_tiny_translator(out, ("ja", "en", "tl"), fmt="m2m100", directions=None)


def test_m2m100_layout(spm_dir: Path) -> None:
    codec = PackCodec.for_pack(_view(spm_dir, "m2m100", {}, {"ja": "__ja__", "tl": "__tl__"}))
    batch, prefix = codec.encode(["住民票です。", "はい。"], "ja", "tl")
    assert [b[0] for b in batch] == ["__ja__", "__ja__"] and [b[-1] for b in batch] == ["</s>", "</s>"]
    assert prefix == ["__tl__"]
    pieces = codec.source_sp.encode("Salamat po", out_type=str)
    assert codec.decode(["__tl__", *pieces, "</s>", "__en__"], prefix) == "Salamat po"


def test_nllb_codes_through_m2m100_layout(spm_dir: Path) -> None:
    codec = PackCodec.for_pack(_view(spm_dir, "m2m100", {}, {"ja": "jpn_Jpan", "vi": "vie_Latn"}))
    batch, prefix = codec.encode(["はい。"], "ja", "vi")
    assert batch[0][0] == "jpn_Jpan" and prefix == ["vie_Latn"]
    assert codec.decode(["vie_Latn", "\u2581V", "âng"], prefix) == "Vâng"


def test_opus_mt_target_token_and_ct2_sentencepiece_affixes(spm_dir: Path) -> None:
    runtime = {"source_spm": "sentencepiece.bpe.model", "target_spm": "sentencepiece.bpe.model"}
    opus = PackCodec.for_pack(
        _view(spm_dir, "opus-mt", {**runtime, "target_token_template": ">>{code}<<"}, {"zh": "cmn_Hans"})
    )
    batch, prefix = opus.encode(["はい。"], "ja", "zh")
    # This model's config.json has no add_source_eos (as ct2-transformers-converter writes MarianMT):
    # the HF tokenizer's </s> is added by us (profile opus-mt-hf).
    assert opus.profile.name == "opus-mt-hf"
    assert batch[0][0] == ">>cmn_Hans<<" and batch[0][-1] == "</s>" and prefix == []
    affixes = {"source_suffix": ["</s>"], "target_prefix": ["<2vi>"]}
    generic = PackCodec.for_pack(_view(spm_dir, "ct2-sentencepiece", {**runtime, **affixes}))
    batch, prefix = generic.encode(["はい。"], "ja", "vi")
    assert batch[0][-1] == "</s>" and prefix == ["<2vi>"]
    assert generic.decode(["<2vi>", "\u2581ok"], prefix) == "ok"


def test_argos_metadata_target_prefix(spm_dir: Path) -> None:
    spm_file = "sentencepiece.bpe.model"
    runtime = {"source_spm": spm_file, "target_spm": spm_file, "metadata": {"target_prefix": "__tl__"}}
    codec = PackCodec.for_pack(_view(spm_dir, "argos", runtime))
    assert codec.encode(["はい。"], "ja", "tl")[1] == ["__tl__"]


def test_unknown_format_and_missing_tokenizer(spm_dir: Path) -> None:
    view = _view(spm_dir, "ct2-whisper", {})
    with pytest.raises(EngineUnavailable, match="format 'ct2-whisper'"):
        PackCodec.for_pack(view)
    with pytest.raises(EngineUnavailable, match=r"tokenizer nope.model missing .*models verify m2m"):
        PackCodec.for_pack(dataclasses.replace(view, format="m2m100", runtime={"source_spm": "nope.model"}))
