"""OPUS-MT releases are Marian zips: the installer converts them to CTranslate2 int8 on install."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from models import Catalogue, PackStore, install_pack
from tests.support.tiny_models import build_tiny_marian, zip_dir


@pytest.fixture(scope="module")
def opus_zip(tiny_argos_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flat zip laid out like a Tatoeba-MT release: decoder.yml, *.npz, vocab, source/target.spm."""
    import sentencepiece as spm

    spm_path = tiny_argos_dir / "sentencepiece.model"
    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    release = tmp_path_factory.mktemp("opus") / "opus-2021-02-18"
    build_tiny_marian(release, [sp.id_to_piece(i) for i in range(sp.get_piece_size())])
    shutil.copyfile(spm_path, release / "source.spm")
    shutil.copyfile(spm_path, release / "target.spm")
    (release / "README.md").write_text("# opus-2021-02-18.zip\n* dataset: opus\n")
    return zip_dir(release, release.parent / "opus-2021-02-18.zip", top="")


def test_catalogue_opus_mt_is_converted(file_server, opus_zip: Path, tmp_path: Path) -> None:
    """The catalogue entry (pinned here by the zip's sha256) is fetched by URL, converted, and loads in
    CTranslate2; Marian files are gone."""
    import ctranslate2
    import sentencepiece as spm

    shutil.copyfile(opus_zip, file_server.root / opus_zip.name)
    entry = Catalogue.load().get("opus-mt-ja-vi")
    url, sha256 = f"{file_server.url}/{opus_zip.name}", hashlib.sha256(opus_zip.read_bytes()).hexdigest()
    local = dataclasses.replace(entry, source=dataclasses.replace(entry.source, url=url, sha256=sha256))
    store = PackStore(tmp_path / "store")
    pack = install_pack("opus-mt-ja-vi", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([local]))
    names = {f.path for f in pack.spec.files}
    assert {"model.bin", "source.spm", "target.spm", "README.md"} <= names
    # decoder.yml stays: the decoding profile reads the release's beam-size and normalize from it.
    assert not any(name.endswith((".npz", ".yml")) for name in names - {"decoder.yml"})
    assert pack.spec.format == "opus-mt" and store.find_mt("ja", "vi") == pack
    assert pack.spec.license.spdx == "CC-BY-4.0" and pack.spec.source.sha256 == sha256

    sp = spm.SentencePieceProcessor(model_file=str(pack.runtime_path("source_spm")))
    translator = ctranslate2.Translator(str(pack.model_dir), device="cpu", compute_type="int8")
    hypothesis = translator.translate_batch([sp.encode("住民票", out_type=str)], max_decoding_length=4)
    assert 0 < len(hypothesis[0].hypotheses[0]) <= 4


def test_local_opus_zip_needs_languages(opus_zip: Path, tmp_path: Path) -> None:
    pack = install_pack(str(opus_zip), PackStore(tmp_path / "store"), languages=["ja", "es"])
    assert pack.spec.directions == (("ja", "es"),) and (pack.path / "model.bin").is_file()
