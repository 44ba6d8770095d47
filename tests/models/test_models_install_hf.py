"""The Hugging Face source against the fake hub (a real local HTTP server laid out like the remote Hub):
allow-patterns, pinned entries fetched exactly, unpinned ones refused or pinned on first install."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from models import Catalogue, ChecksumMismatch, PackFile, PackSource, PackSpec, PackStore, install_pack
from models.errors import PackSourceError, UnpinnedPack
from models.fetch import hf_file_url
from models.pins import PinFile, missing_pins
from tests.models.conftest import FAKE_HUB_RUNTIME_FILES, FakeHub


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entry(hub: FakeHub, revision: str, files: tuple[PackFile, ...]) -> PackSpec:
    """The catalogue's quickmt-ja-en entry pointed at the fake hub."""
    entry = Catalogue.load().get("quickmt-ja-en")
    source = PackSource(type="hf", repo=hub.repo, revision=revision, allow_patterns=FAKE_HUB_RUNTIME_FILES)
    return dataclasses.replace(entry, source=source, files=files)


def _install(spec: PackSpec, tmp: Path, name: str, **kwargs: object):
    return install_pack(
        spec.id,
        PackStore(tmp / name),
        cache_dir=tmp / "cache",
        catalogue=Catalogue([spec], {spec.id: "test: not pinned"} if missing_pins(spec) else None),
        pins=PinFile(tmp / "home" / "model-pins.json"),
        **kwargs,
    )


def test_hf_repo_reference(fake_hub: FakeHub, tmp_path: Path) -> None:
    """`hf:owner/repo@main` fetches every non-doc file but training checkpoints at the commit main names,
    records that commit and detects the format."""
    ref = f"hf:{fake_hub.repo}@main"
    pack = install_pack(ref, PackStore(tmp_path / "store"), cache_dir=tmp_path / "cache")
    assert pack.id == "quickmt-ja-en" and pack.spec.format == "ct2-sentencepiece"
    assert pack.spec.directions == (("ja", "en"),)
    assert pack.spec.source == PackSource(type="hf", repo=fake_hub.repo, revision=fake_hub.commit)
    assert not (pack.path / "README.md").exists() and (pack.path / "src.spm.model").is_file()
    assert not any("eole-model" in path for path in fake_hub.fetched())
    assert all(f"/resolve/{fake_hub.commit}/" in path for path in fake_hub.fetched()[1:])
    assert hf_file_url(fake_hub.repo, "r", "model.bin").endswith(f"/{fake_hub.repo}/resolve/r/model.bin")


def test_pinned_entry_fetches_exactly_its_files(fake_hub: FakeHub, tmp_path: Path) -> None:
    """A commit and a sha256 per file: no Hub listing, only the listed files, each checked on download."""
    files = tuple(PackFile(path=n, sha256=_sha256(fake_hub.files / n)) for n in FAKE_HUB_RUNTIME_FILES)
    spec = _entry(fake_hub, fake_hub.commit, files)
    assert missing_pins(spec) == []
    pack = _install(spec, tmp_path, "store")
    assert {f.path: f.sha256 for f in pack.spec.files} == {f.path: f.sha256 for f in files}
    assert pack.spec.license.spdx == "CC-BY-4.0"
    assert fake_hub.fetched() == [
        f"/{fake_hub.repo}/resolve/{fake_hub.commit}/{n}" for n in FAKE_HUB_RUNTIME_FILES
    ]
    assert not (tmp_path / "home" / "model-pins.json").exists()  # nothing to record: the catalogue pins it


def test_unpinned_entry_is_refused_before_any_download(fake_hub: FakeHub, tmp_path: Path) -> None:
    spec = _entry(fake_hub, "main", (PackFile(path="model.bin"),))
    with pytest.raises(UnpinnedPack) as info:
        _install(spec, tmp_path, "store")
    message = str(info.value)
    assert "a commit revision (quickmt/quickmt-ja-en@main can move)" in message
    assert "the sha256 of model.bin" in message and "the files matching config.json" in message
    assert "Why: test: not pinned" in message and "--pin-on-first-install" in message
    assert fake_hub.fetched() == [] and os.listdir(tmp_path / "store") == []


def test_pin_on_first_install_records_then_verifies(fake_hub: FakeHub, tmp_path: Path) -> None:
    """IT opts in once: main resolves to its commit, the files' sha256 are recorded (0600), then enforced."""
    spec = _entry(fake_hub, "main", (PackFile(path="model.bin"), PackFile(path="src.spm.model")))
    first = _install(spec, tmp_path, "first", pin_on_first_install=True)
    assert first.spec.source.revision == fake_hub.commit
    assert fake_hub.fetched()[0] == f"/api/models/{fake_hub.repo}/revision/main"
    assert {p.rsplit("/", 1)[-1] for p in fake_hub.fetched()[1:]} == set(FAKE_HUB_RUNTIME_FILES)
    assert all(f"/resolve/{fake_hub.commit}/" in p for p in fake_hub.fetched()[1:])  # one commit for all
    pin_file = tmp_path / "home" / "model-pins.json"
    assert stat.S_IMODE(pin_file.stat().st_mode) == 0o600
    record = json.loads(pin_file.read_text())["packs"]["quickmt-ja-en"]
    assert record["source"]["revision"] == fake_hub.commit
    assert {f["path"]: f["sha256"] for f in record["files"]} == {
        n: _sha256(fake_hub.files / n) for n in FAKE_HUB_RUNTIME_FILES
    }

    fake_hub.server.requests.clear()
    assert _install(spec, tmp_path, "first").path == first.path  # installed and verified: nothing fetched
    assert fake_hub.fetched() == []
    again = _install(spec, tmp_path, "second")  # no flag: the local pin is enough
    assert again.spec.source.revision == fake_hub.commit
    assert not any(p.startswith("/api/") for p in fake_hub.fetched())  # pinned: exactly the recorded files

    (fake_hub.files / "model.bin").write_bytes(b"changed upstream")
    with pytest.raises(
        ChecksumMismatch, match=r"pinned in .*model-pins\.json on .* no longer matches.*unpin"
    ):
        _install(spec, tmp_path, "third")
    assert os.listdir(tmp_path / "third") == []
    assert not [p for p in (tmp_path / "cache" / "downloads").iterdir() if "model.bin" in p.name]

    assert PinFile(pin_file).remove("quickmt-ja-en")  # IT trusts the change: pin again, from a download
    fake_hub.server.requests.clear()
    repinned = _install(spec, tmp_path, "first", pin_on_first_install=True)
    assert f"/{fake_hub.repo}/resolve/{fake_hub.commit}/model.bin" in fake_hub.fetched()
    assert next(f for f in repinned.spec.files if f.path == "model.bin").sha256 == _sha256(
        fake_hub.files / "model.bin"
    )


def test_hf_wrong_md5_is_rejected(fake_hub: FakeHub, tmp_path: Path) -> None:
    """Piper-style entries carry only upstream md5 for small files; a mismatch installs nothing."""
    files = (
        PackFile(path="model.bin", parts=("model.bin",)),
        PackFile(path="src.spm.model", md5="0" * 32, parts=("src.spm.model",)),
    )
    spec = _entry(fake_hub, fake_hub.commit, files)
    with pytest.raises(ChecksumMismatch, match="upstream publishes 0000"):
        _install(spec, tmp_path, "store", pin_on_first_install=True)
    assert os.listdir(tmp_path / "store") == [] and os.listdir(tmp_path / "cache" / "downloads") == []
    assert not (tmp_path / "home" / "model-pins.json").exists()


@pytest.mark.parametrize("hostile", ["../evil", "<tmp>/evil", "eole-model/../../evil"])
@pytest.mark.parametrize("how", ["reference", "catalogue"])
def test_a_listing_naming_a_path_outside_the_pack_is_refused(
    fake_hub: FakeHub, tmp_path: Path, hostile: str, how: str
) -> None:
    """A hostile hub or mirror lists a file outside the repository: refused before any file is fetched."""
    hostile = hostile.replace("<tmp>", str(tmp_path))  # an absolute name
    (fake_hub.files.parent / "evil").write_bytes(b"not a model file")  # what `resolve/<rev>/../evil` serves
    for revision in ("main", fake_hub.commit):
        listing = fake_hub.server.root / "api" / "models" / fake_hub.repo / "revision" / revision
        info = json.loads(listing.read_text())
        info["siblings"].append({"rfilename": hostile})
        listing.write_text(json.dumps(info))
    store = PackStore(tmp_path / "store")
    with pytest.raises(PackSourceError, match="not a relative path inside the repository") as info:
        if how == "reference":
            install_pack(f"hf:{fake_hub.repo}@main", store, cache_dir=tmp_path / "cache")
        else:
            spec = _entry(fake_hub, "main", ())
            spec = dataclasses.replace(spec, source=dataclasses.replace(spec.source, allow_patterns=("*",)))
            _install(spec, tmp_path, "store", pin_on_first_install=True)
    assert repr(hostile) in str(info.value)
    assert [p for p in fake_hub.fetched() if "/resolve/" in p] == []
    written = [p for p in tmp_path.rglob("evil") if fake_hub.server.root not in p.parents]
    assert written == []
