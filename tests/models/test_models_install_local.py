"""Installing from local files: Argos zips, CTranslate2 directories, Piper voices, exported packs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from models import (
    ChecksumMismatch,
    PackFormatError,
    PackNotInstalled,
    PackSourceError,
    PackStore,
    install_pack,
    verify_pack,
)
from tests.support.tiny_models import zip_dir


def test_argosmodel_installs_flattened_and_translates(tiny_argosmodel: Path, tmp_path: Path) -> None:
    """The zip's top folder is flattened; the pack loads in CTranslate2 and is found for ja→en."""
    import ctranslate2
    import sentencepiece as spm

    store = PackStore(tmp_path / "store")
    pack = install_pack(str(tiny_argosmodel), store)
    assert pack.id == "argos-ja-en" and pack.spec.format == "argos"
    assert (pack.path / "metadata.json").is_file() and (pack.path / "model" / "model.bin").is_file()
    assert pack.spec.runtime["metadata"]["from_code"] == "ja"
    assert pack.spec.license.spdx.startswith("LicenseRef-argos")  # catalogue entry of the same id
    assert pack.spec.source.type == "local"
    assert store.find_mt("ja", "en") == pack and store.find_mt("en", "ja") is None
    verify_pack(pack)

    sp = spm.SentencePieceProcessor(model_file=str(pack.runtime_path("source_spm")))
    translator = ctranslate2.Translator(str(pack.model_dir), device="cpu", compute_type="int8")
    result = translator.translate_batch(
        [sp.encode("住民票をください。", out_type=str)], max_decoding_length=6
    )
    assert 0 < len(result[0].hypotheses[0]) <= 6
    assert not list(store.root.glob(".tmp-*"))


def test_argos_pb_code_maps_to_pt(tiny_argos_dir: Path, tmp_path: Path) -> None:
    """Argos `pb` (Brazilian Portuguese) becomes our `pt`, with the engine code recorded."""
    package = shutil.copytree(tiny_argos_dir, tmp_path / "translate-en_pb")
    meta = json.loads((package / "metadata.json").read_text())
    (package / "metadata.json").write_text(json.dumps({**meta, "from_code": "en", "to_code": "pb"}))
    pack = install_pack(str(zip_dir(package, tmp_path / "en_pb.argosmodel")), PackStore(tmp_path / "s"))
    assert pack.id == "argos-en-pt" and pack.spec.translates("en", "pt")
    assert pack.spec.engine_code("pt") == "pb"


@pytest.mark.parametrize(
    ("name", "spm_files", "fmt", "runtime_spm"),
    [
        ("quickmt-ja-en", ["src.spm.model", "tgt.spm.model"], "ct2-sentencepiece", "src.spm.model"),
        ("my-m2m", ["sentencepiece.bpe.model"], "m2m100", "sentencepiece.bpe.model"),
        ("opus-mt-ja-vi", ["source.spm", "target.spm"], "opus-mt", "source.spm"),
        ("shared-ja-en", ["spm.model"], "ct2-sentencepiece", "spm.model"),
    ],
)
def test_ct2_directory_formats(
    tiny_argos_dir: Path, tmp_path: Path, name: str, spm_files: list[str], fmt: str, runtime_spm: str
) -> None:
    """A CTranslate2 directory is recognised by its tokenizer files; languages come from the name."""
    directory = shutil.copytree(tiny_argos_dir / "model", tmp_path / name)
    for spm_name in spm_files:
        shutil.copyfile(tiny_argos_dir / "sentencepiece.model", directory / spm_name)
    pack = install_pack(str(directory), PackStore(tmp_path / "store"))
    assert pack.spec.format == fmt and pack.kind == "mt"
    assert pack.spec.runtime["source_spm"] == runtime_spm
    if fmt == "m2m100":
        assert pack.spec.directions is None and pack.spec.engine_code("vi") == "__vi__"
    else:
        assert pack.spec.directions is not None and len(pack.spec.directions) == 1


def test_ct2_directory_without_languages_asks_for_them(tiny_argos_dir: Path, tmp_path: Path) -> None:
    directory = shutil.copytree(tiny_argos_dir / "model", tmp_path / "translator")
    shutil.copyfile(tiny_argos_dir / "sentencepiece.model", directory / "source.spm")
    shutil.copyfile(tiny_argos_dir / "sentencepiece.model", directory / "target.spm")
    store = PackStore(tmp_path / "store")
    with pytest.raises(PackFormatError, match="pass --languages SRC,TGT"):
        install_pack(str(directory), store)
    assert os.listdir(store.root) == []
    pack = install_pack(str(directory), store, languages=["ja", "es"])
    assert pack.spec.directions == (("ja", "es"),)


def test_piper_onnx_with_config_beside(default_store: PackStore, tmp_path: Path) -> None:
    """A bare .onnx + .onnx.json becomes a tts pack; language and sample rate come from the config."""
    source = default_store.get("piper-en_US-joe-medium")
    loose = tmp_path / "voices"
    loose.mkdir()
    for name in ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"):
        os.link(source.path / name, loose / name)
    pack = install_pack(str(loose / "en_US-joe-medium.onnx"), PackStore(tmp_path / "store"), kind="tts")
    assert pack.id == "piper-en_US-joe-medium" and pack.languages == ("en",)
    assert pack.spec.runtime["sample_rate"] == 22050 and pack.spec.engine_code("en") == "en_US"
    (loose / "en_US-joe-medium.onnx.json").unlink()
    with pytest.raises(PackFormatError, match=r"must sit beside the \.onnx file"):
        install_pack(str(loose / "en_US-joe-medium.onnx"), PackStore(tmp_path / "store2"))


def test_wrong_format_and_wrong_kind(tiny_argosmodel: Path, tmp_path: Path) -> None:
    store = PackStore(tmp_path / "store")
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(PackFormatError, match="not a pack"):
        install_pack(str(junk), store)
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    with pytest.raises(PackFormatError, match=r"no model\.bin"):
        install_pack(str(empty), store)
    with pytest.raises(PackFormatError, match=r"is a mt pack .*not asr"):
        install_pack(str(tiny_argosmodel), store, kind="asr")
    with pytest.raises(PackSourceError, match="no such file"):
        install_pack(str(tmp_path / "missing.argosmodel"), store)
    assert os.listdir(store.root) == []


def test_exported_pack_zip_is_verified(tiny_argosmodel: Path, tmp_path: Path) -> None:
    """A zipped pack directory (pack.json inside) installs as is; a tampered file is rejected."""
    first = install_pack(str(tiny_argosmodel), PackStore(tmp_path / "a"))
    exported = zip_dir(first.path, tmp_path / "argos-ja-en.zip")
    second = install_pack(str(exported), PackStore(tmp_path / "b"))
    assert second.spec.files == first.spec.files

    (first.path / "metadata.json").write_text("{}")
    tampered = zip_dir(first.path, tmp_path / "tampered.zip")
    store = PackStore(tmp_path / "c")
    with pytest.raises(ChecksumMismatch, match=r"metadata\.json has sha256"):
        install_pack(str(tampered), store)
    assert not store.is_installed("argos-ja-en") and os.listdir(store.root) == []


def test_replace_and_remove(tiny_argosmodel: Path, tmp_path: Path) -> None:
    """Reinstalling replaces the directory whole; remove deletes it; leftovers of dead installs go."""
    store = PackStore(tmp_path / "store")
    first = install_pack(str(tiny_argosmodel), store)
    (first.path / "stray.txt").write_text("from an older version")
    second = install_pack(str(tiny_argosmodel), store)
    assert not (second.path / "stray.txt").exists()
    dead = store.root / ".tmp-argos-ja-en-999999999-abcd"
    dead.mkdir()
    (dead / "model.bin").write_bytes(b"half")
    assert store.clean_leftovers() == [dead]
    store.remove("argos-ja-en")
    assert store.installed() == []
    with pytest.raises(PackNotInstalled, match="madoguchi models install argos-ja-en"):
        store.get("argos-ja-en")
