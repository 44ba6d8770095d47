"""The Hugging Face source against a real local HTTP server laid out like the Hub (API listing + resolve)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from models import Catalogue, ChecksumMismatch, PackFile, PackSource, PackStore, install_pack
from models.fetch import hf_file_url

REPO, REVISION = "quickmt/quickmt-ja-en", "abc123"


@pytest.fixture
def hub(file_server, tiny_argos_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A Hub-shaped tree: ``api/models/<repo>/revision/<rev>`` and ``<repo>/resolve/<rev>/<file>``."""
    files = tiny_argos_dir / "model"
    resolve = file_server.root / REPO / "resolve" / REVISION
    resolve.mkdir(parents=True)
    for name in ("model.bin", "config.json", "shared_vocabulary.json"):
        shutil.copyfile(files / name, resolve / name)
    for name in ("src.spm.model", "tgt.spm.model"):
        shutil.copyfile(tiny_argos_dir / "sentencepiece.model", resolve / name)
    (resolve / "README.md").write_text("# model card\n")
    listing = file_server.root / "api" / "models" / REPO / "revision" / REVISION
    listing.parent.mkdir(parents=True)
    listing.write_text(json.dumps({"siblings": [{"rfilename": p.name} for p in sorted(resolve.iterdir())]}))
    monkeypatch.setattr("models.fetch.HF_ENDPOINT", file_server.url)
    return resolve


def test_hf_repo_reference(hub: Path, tmp_path: Path) -> None:
    """`hf:owner/repo@revision` fetches every non-doc file and detects the format from them."""
    pack = install_pack(f"hf:{REPO}@{REVISION}", PackStore(tmp_path / "store"), cache_dir=tmp_path / "cache")
    assert pack.id == "quickmt-ja-en" and pack.spec.format == "ct2-sentencepiece"
    assert pack.spec.directions == (("ja", "en"),)
    assert pack.spec.source == PackSource(type="hf", repo=REPO, revision=REVISION)
    assert not (pack.path / "README.md").exists() and (pack.path / "src.spm.model").is_file()


def test_hf_catalogue_entry_checks_listed_hashes(hub: Path, tmp_path: Path) -> None:
    """A catalogue hf entry verifies the sha256 it records and hashes the rest on install."""
    entry = Catalogue.load().get("quickmt-ja-en")
    good = hashlib.sha256((hub / "model.bin").read_bytes()).hexdigest()
    spec = dataclasses.replace(
        entry,
        source=PackSource(type="hf", repo=REPO, revision=REVISION),
        files=(PackFile(path="model.bin", sha256=good), PackFile(path="src.spm.model")),
    )
    store = PackStore(tmp_path / "store")
    pack = install_pack("quickmt-ja-en", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([spec]))
    recorded = {f.path: f.sha256 for f in pack.spec.files}
    assert recorded["model.bin"] == good
    assert set(recorded) == {
        "model.bin",
        "config.json",
        "shared_vocabulary.json",
        "src.spm.model",
        "tgt.spm.model",
    }
    assert pack.spec.license.spdx == "CC-BY-4.0"
    assert hf_file_url(REPO, REVISION, "model.bin").endswith(f"/{REPO}/resolve/{REVISION}/model.bin")


def test_hf_wrong_md5_is_rejected(hub: Path, tmp_path: Path) -> None:
    """Piper-style entries carry only upstream md5 for small files; a mismatch installs nothing."""
    entry = Catalogue.load().get("quickmt-ja-en")
    spec = dataclasses.replace(
        entry,
        source=PackSource(type="hf", repo=REPO, revision=REVISION),
        files=(
            PackFile(path="model.bin", parts=("model.bin",)),
            PackFile(path="src.spm.model", md5="0" * 32, parts=("src.spm.model",)),
        ),
    )
    store = PackStore(tmp_path / "store")
    with pytest.raises(ChecksumMismatch, match="upstream publishes 0000"):
        install_pack("quickmt-ja-en", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([spec]))
    assert os.listdir(store.root) == [] and os.listdir(tmp_path / "cache" / "downloads") == []
