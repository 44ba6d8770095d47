"""The catalogue check: every entry is fully pinned (immutable revision + sha256 of each file) or says
``pinned: false`` with a reason, hub entries fetch only what runs, and the default install refuses the
unpinned ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from models import DEFAULT_PACKS, Catalogue, PackFile, PackFormatError, PackStore, install_pack
from models.catalogue import CATALOGUE_PATH
from models.errors import UnpinnedPack
from models.fetch import select_hf_files
from models.pins import PinFile, decide, is_commit, missing_pins

CATALOGUE = Catalogue.load()
UNPINNED = [spec.id for spec in CATALOGUE.all() if CATALOGUE.unpinned_reason(spec.id)]


def test_every_entry_is_pinned_or_says_why_not() -> None:
    undeclared = [s.id for s in CATALOGUE.all() if missing_pins(s) and not CATALOGUE.unpinned_reason(s.id)]
    assert undeclared == [], "not fully pinned but not marked `pinned: false` with an unpinned_reason"
    stale = [s.id for s in CATALOGUE.all() if not missing_pins(s) and CATALOGUE.unpinned_reason(s.id)]
    assert stale == [], "fully pinned but still marked `pinned: false`: drop the marker"
    for spec in CATALOGUE.all():
        if spec.id in UNPINNED:
            continue
        assert all(item.sha256 for item in spec.files) or spec.source.sha256, spec.id
        if spec.source.type == "hf":
            assert is_commit(spec.source.revision), spec.id
        if spec.source.type == "url":
            assert spec.source.url and spec.source.sha256, spec.id
        if spec.source.type in ("pypi", "npm"):
            assert spec.files and all(item.sha256 and item.size_bytes for item in spec.files), spec.id


def test_pinned_set_is_what_the_sources_give() -> None:
    """Wheels and npm tarballs (hashed here) and the two Argos archives MODEL_PACKS.md gives a sha256 for."""
    pinned = {s.id for s in CATALOGUE.all() if s.id not in UNPINNED}
    assert set(DEFAULT_PACKS) | {"bergamot-en-pt", "bergamot-pt-en", "argos-ja-en", "argos-en-ja"} <= pinned
    assert {s.source.type for s in CATALOGUE.all() if s.id in pinned} == {"pypi", "npm", "url"}
    assert {"quickmt-ja-en", "m2m100-418m", "nllb-200-distilled-600m", "piper-pt_BR-faber-medium"} <= set(
        UNPINNED
    )
    nllb = CATALOGUE.get("nllb-200-distilled-600m")
    assert nllb.source.revision == "302d78f00e6fdb50a1064059df7c392b735e9d05"
    assert nllb.license.commercial_ok is False and nllb.format == "nllb"


@pytest.mark.parametrize("spec", [s for s in CATALOGUE.all() if s.source.type == "hf"], ids=lambda s: s.id)
def test_hub_entries_fetch_only_what_runs(spec) -> None:
    """Every hub entry names its files (``parts``) or an allow-list: no checkpoint, card or extra weights."""
    if all(item.parts for item in spec.files):
        return
    assert spec.source.allow_patterns, f"{spec.id}: hub entry without allow_patterns"
    listing = [item.path for item in spec.files] + [
        "README.md",
        "eole-model/model.00.safetensors",
        "pytorch_model.bin",
        "model.safetensors",
        "onnx/encoder_model.onnx",
    ]
    assert set(select_hf_files(listing, spec.source.allow_patterns)) == {item.path for item in spec.files}


@pytest.mark.parametrize("pack_id", UNPINNED)
def test_default_install_refuses_unpinned_entries(pack_id: str, tmp_path: Path) -> None:
    """Refused before any download, naming what is missing and the opt-in; nothing lands in the store."""
    store = PackStore(tmp_path / "store")
    with pytest.raises(UnpinnedPack) as info:
        install_pack(
            pack_id,
            store,
            cache_dir=tmp_path / "cache",
            accept_noncommercial=True,
            pins=PinFile(tmp_path / "model-pins.json"),
            timeout_s=1,
        )
    message = str(info.value)
    assert f"catalogue pack '{pack_id}' is not pinned; missing: " in message
    assert CATALOGUE.unpinned_reason(pack_id) in message
    assert f"madoguchi models install {pack_id} --pin-on-first-install" in message and "\n" not in message
    assert store.installed() == [] and not (tmp_path / "cache").exists()


def test_pinned_false_needs_a_reason(tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    entry = next(e for e in data["packs"] if e["id"] == "m2m100-418m")
    del entry["unpinned_reason"]
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"packs": [entry]}), encoding="utf-8")
    with pytest.raises(PackFormatError, match="'pinned: false' without an 'unpinned_reason'"):
        Catalogue.load(path)


def test_local_pin_applies_only_to_its_source(tmp_path: Path) -> None:
    """A record made for another repository, or for another catalogue commit, is ignored (stale)."""
    pins = PinFile(tmp_path / "model-pins.json")
    spec = CATALOGUE.get("quickmt-en-vi")
    recorded = dataclasses.replace(
        spec,
        source=dataclasses.replace(spec.source, revision="a" * 40),
        files=tuple(PackFile(path=f.path, sha256="b" * 64, size_bytes=1) for f in spec.files),
    )
    pins.record(recorded)
    decision = decide(spec, pins, pin_on_first_install=False)
    assert decision.origin == "local" and decision.spec.source.revision == "a" * 40
    assert all(f.sha256 == "b" * 64 for f in decision.spec.files)
    other = dataclasses.replace(spec, source=dataclasses.replace(spec.source, repo="someone/else"))
    with pytest.raises(UnpinnedPack):
        decide(other, pins, pin_on_first_install=False)
    moved = dataclasses.replace(spec, source=dataclasses.replace(spec.source, revision="c" * 40))
    with pytest.raises(UnpinnedPack):
        decide(moved, pins, pin_on_first_install=False)
    assert pins.remove("quickmt-en-vi") and not pins.remove("quickmt-en-vi")
    with pytest.raises(UnpinnedPack):
        decide(spec, pins, pin_on_first_install=False)


def test_unreadable_pin_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "model-pins.json"
    path.write_text("{not json")
    with pytest.raises(PackFormatError, match=r"cannot read the local pins .*--pin-on-first-install"):
        PinFile(path).load()
