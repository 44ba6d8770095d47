"""Decoding profiles against the upstream reference token sequences, on tiny packs built like real ones.

For each format the reference is what the upstream project's own code feeds CTranslate2 for a fixed
input (quickmt ``Translator.tokenize``, Argos ``apply_packaged_translation``, the CTranslate2 guides for
M2M-100/NLLB/MarianMT, OPUS-MT-train ``preprocess-spm.sh``), recomputed here from the same
sentencepiece model with the upstream steps written out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sentencepiece as spm
from sacremoses import MosesPunctNormalizer

from bench.tiny_packs import build_tiny_translator
from edge.errors import EngineUnavailable
from edge.translate.engines import Ct2Engine
from edge.translate.router import MtOptions, MtRouter
from edge.translate.tokenize import PackView
from models import PackStore

TEXT = "「住民票の写し」をください。"
EN_TEXT = "Please fill in this form."


def _engine(pack_dir: Path, **settings) -> Ct2Engine:
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    view = PackView(
        id=manifest["id"],
        path=pack_dir,
        format=manifest["format"],
        runtime=manifest["runtime"],
        language_codes=manifest["language_codes"],
        languages=tuple(manifest["languages"]),
    )
    return Ct2Engine(view, MtOptions(**settings))


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiles")
    build_tiny_translator(root / "quickmt", ("ja", "en"), fmt="ct2-sentencepiece")
    build_tiny_translator(root / "argos", ("en", "vi"), fmt="argos")
    build_tiny_translator(root / "m2m", ("ja", "en", "tl"), fmt="m2m100", directions=None)
    build_tiny_translator(root / "nllb", ("ja", "en", "tl"), fmt="nllb", directions=None)
    build_tiny_translator(root / "opus", ("ja", "es"), fmt="opus-mt")
    return root


def _pieces(model: Path, text: str) -> list[str]:
    return spm.SentencePieceProcessor(model_file=str(model)).encode(text, out_type=str)


def test_quickmt_appends_eos_and_disables_unk(packs: Path) -> None:
    engine = _engine(packs / "quickmt")
    batch, prefix = engine.codec.encode([TEXT], "ja", "en")
    # quickmt/translator.py Translator.tokenize: source_tokenizer.encode(..., out_type=str) + ["</s>"]
    assert batch == [[*_pieces(packs / "quickmt" / "src.spm.model", TEXT), "</s>"]]
    assert prefix == []
    args = engine._search_args(prefix, 1)
    assert (args["beam_size"], args["length_penalty"], args["disable_unk"], args["replace_unknowns"]) == (
        2, 1.0, True, False,
    )  # fmt: skip
    assert args["max_decoding_length"] == 256


def test_argos_pieces_only_replace_unknowns_beam4_lp02(packs: Path) -> None:
    engine = _engine(packs / "argos")
    batch, prefix = engine.codec.encode([EN_TEXT], "en", "vi")
    # argostranslate/translate.py: tokenized = pkg.tokenizer.encode(sentence) (no </s>)
    assert batch == [_pieces(packs / "argos" / "sentencepiece.model", EN_TEXT)]
    args = engine._search_args(prefix, 1)
    assert (args["beam_size"], args["length_penalty"], args["replace_unknowns"]) == (4, 0.2, True)
    assert json.loads((packs / "argos" / "model" / "config.json").read_text())["add_source_eos"] is False


@pytest.mark.parametrize(
    ("pack", "src", "tgt"), [("m2m", "__ja__", "__tl__"), ("nllb", "jpn_Jpan", "tgl_Latn")]
)
def test_m2m100_and_nllb_language_tokens(packs: Path, pack: str, src: str, tgt: str) -> None:
    engine = _engine(packs / pack)
    batch, prefix = engine.codec.encode([TEXT], "ja", "tl")
    # CTranslate2 guides: tokenizer.encode gives [src_lang] + pieces + ["</s>"]; target_prefix [tgt_lang]
    assert batch == [[src, *_pieces(packs / pack / "sentencepiece.bpe.model", TEXT), "</s>"]]
    assert prefix == [tgt]
    args = engine._search_args(prefix, 1)
    assert args["beam_size"] == 5 and args["max_decoding_length"] == 200 + 1


def test_opus_mt_tatoeba_normalises_and_lets_ct2_add_eos(packs: Path) -> None:
    engine = _engine(packs / "opus")
    assert engine.profile.name == "opus-mt"  # config.json add_source_eos: true (Marian converter)
    batch, _ = engine.codec.encode([TEXT], "ja", "es")
    # preprocess-spm.sh: 「」→", 。→". ", control chars removed, spaces squeezed; then spm_encode.
    moses = MosesPunctNormalizer(lang="ja")
    normalised = " ".join(moses.remove_control_chars(moses.replace_unicode_punct(TEXT)).split())
    assert normalised == '"住民票の写し"をください.'
    assert batch == [_pieces(packs / "opus" / "source.spm", normalised)]


def test_opus_mt_converted_from_transformers_gets_eos(packs: Path, tmp_path: Path) -> None:
    hf = tmp_path / "opus-hf"
    build_tiny_translator(hf, ("ja", "es"), fmt="opus-mt")
    config = json.loads((hf / "config.json").read_text())
    config["add_source_eos"] = False  # what ct2-transformers-converter writes for MarianMT
    (hf / "config.json").write_text(json.dumps(config))
    engine = _engine(hf)
    assert engine.profile.name == "opus-mt-hf"
    batch, _ = engine.codec.encode([EN_TEXT], "ja", "es")
    assert batch[0][-1] == "</s>"


def test_pack_whose_vocabulary_lacks_the_language_token_is_refused(packs: Path, tmp_path: Path) -> None:
    """An NLLB model installed as M2M-100 would be steered with __ja__, which it does not have."""
    wrong = tmp_path / "nllb-as-m2m"
    build_tiny_translator(wrong, ("ja", "en", "tl"), fmt="nllb", directions=None)
    manifest = json.loads((wrong / "pack.json").read_text())
    manifest["format"], manifest["language_codes"] = "m2m100", {}
    (wrong / "pack.json").write_text(json.dumps(manifest))
    with pytest.raises(EngineUnavailable, match=r"token '__ja__' is not in its source vocabulary"):
        _engine(wrong)


def test_translation_that_hits_max_length_is_flagged(packs: Path) -> None:
    """The tiny models never emit </s> (banned), so every translation runs to the maximum length."""
    router = MtRouter(PackStore(packs), MtOptions(beam_size=1, max_decoding_length=6))
    result = router.translate("住民票の写しをください。", "ja", "en")
    assert result.maybe_cut is True
    assert all(len(s.split()) <= 6 for s in result.segments)


def test_segment_longer_than_the_model_limit_is_split_at_a_clause(packs: Path) -> None:
    engine = _engine(packs / "quickmt", beam_size=1, max_decoding_length=4)
    long = "、".join(["住民票の写しは本人確認書類が必要です"] * 40) + "。"
    pieces = engine._pieces([long], "ja")
    assert len(pieces) > 1
    assert all(engine.codec.source_length(p, "ja") <= engine.profile.max_input_tokens for _, p in pieces)
    assert all(p.endswith(("、", "。")) for _, p in pieces)
    assert "".join(p for _, p in pieces) == long


def test_options_set_after_loading_apply_to_the_loaded_packs(packs: Path) -> None:
    """Per-call settings changed on the router (as the benchmark does per configuration) reach the packs
    it has already loaded."""
    router = MtRouter(PackStore(packs), MtOptions(beam_size=1, max_decoding_length=12))
    long = router.translate("住民票の写しをください。", "ja", "en").text
    router.options = MtOptions(beam_size=1, max_decoding_length=3)
    short = router.translate("住民票の写しをください。", "ja", "en").text
    assert short and long.startswith(short) and len(short) < len(long)
