"""Glossary enforcement through MtRouter with TINY twins: approved terms always reach the output."""

from __future__ import annotations

from pathlib import Path

import pytest

import glossary
from edge.translate.router import MtOptions, MtRouter
from tests.support.tiny_models import build_store

HEADER = "term_id,domain,ja,reading,variants,en,vi,zh,tl,pt,ne,ko,id,es,easy_ja,explanation_en,status,source"
ROW = (
    "res.juminhyo,res,住民票,じゅうみんひょう,じゅうみんひょう,certificate of residence,phiếu cư trú,住民票,"
    "sertipiko ng paninirahan,atestado de residência,बसोबास प्रमाणपत्र,주민표,surat keterangan domisili,"
    "certificado de residencia,すんでいる ところを しょうめいする かみ,,draft,"
)
OPTIONS = MtOptions(beam_size=1, max_decoding_length=10)


@pytest.fixture(scope="module")
def terms(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("glossary") / "res.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    return glossary.load_glossary(path)


def test_direct_translation_keeps_the_approved_term(tmp_path: Path, terms) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en",)), OPTIONS, glossary=terms)
    result = router.translate("住民票の写しをください。", "ja", "en")
    assert "certificate of residence" in result.text
    assert "res.juminhyo" in result.terms_applied + result.terms_fallback
    assert result.terms_fallback == ["res.juminhyo"]  # a random model cannot copy the placeholder
    assert result.flagged
    assert result.glossary_version == terms.version


def test_pivot_restores_the_final_language_term(tmp_path: Path, terms) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en", "tiny-en-vi")), OPTIONS, glossary=terms)
    result = router.translate("住民票を二通ください。ありがとう。", "ja", "vi")
    assert result.engine == "ctranslate2-pivot"
    assert "phiếu cư trú" in result.text
    assert "certificate of residence" not in result.text
    assert result.flagged and "res.juminhyo" in result.terms_fallback
    assert len(result.segments) == 2 and "phiếu cư trú" in result.segments[-1]
    assert not any("ZX" in s for s in [result.text, *result.segments])  # no placeholder leaks


def test_no_term_no_flag(tmp_path: Path, terms) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en",)), OPTIONS, glossary=terms)
    result = router.translate("ありがとうございました。", "ja", "en")
    assert (result.terms_applied, result.terms_fallback, result.flagged) == ([], [], False)
    assert result.glossary_version == terms.version
