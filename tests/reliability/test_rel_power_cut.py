"""Power cuts and full disks during updates: the device restarts on a complete, verified version.

A glossary update (``edge.sync.client.GlossaryStore.install``) and a model pack update
(``models.install_pack`` over an installed version) are each killed with SIGKILL at every write step
(see ``rel_powercut_child.py``). After each cut, "restart" is what the device does on start: load the
glossary store, open the pack store (``edge.engines.open_store`` clears leftovers) and verify the pack.
Disk-full while installing into an empty store is covered by ``tests/models/test_models_disk_full.py``;
here the disk fills up while an *older version* is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from edge.config import EdgeSettings
from edge.engines import open_store
from edge.sync.client import SyncClient
from edge.sync.glossary_store import GlossaryStore
from edge.sync.outbox import Outbox
from glossary.signing import generate_private_key, public_key_pem
from models import DiskFullError, PackStore, install_pack, verify_pack
from tests.support.faults import envelope_bytes, make_pack_dir, power_cuts, tmpfs
from tests.support.glossaries import small_glossary

V1_PAYLOAD = {"voice.onnx": b"1" * 3000, "voice.onnx.json": b'{"audio": {"sample_rate": 22050}, "v": 1}'}
V2_PAYLOAD = {
    "voice.onnx": b"2" * 5000,
    "voice.onnx.json": b'{"audio": {"sample_rate": 22050}, "v": 2}',
    "MODEL_CARD": b"version two",
}


def _digest(payload: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in payload.items()}


def test_glossary_update_killed_at_every_step_restarts_on_old_or_new(tmp_path: Path) -> None:
    key = generate_private_key()
    pub = tmp_path / "server.pub"
    pub.write_bytes(public_key_pem(key))
    old, new = small_glossary("one"), small_glossary("two")
    base = tmp_path / "base"
    GlossaryStore(base, key.public_key()).install(envelope_bytes(key, old, 1))
    update = tmp_path / "v2.json"
    update.write_bytes(envelope_bytes(key, new, 2))

    report = power_cuts("glossary", base, tmp_path / "work", update, pub)

    assert report["steps"] >= 4  # write, fsync, two renames at least
    assert report["killed"] == list(range(1, report["steps"] + 1))
    seen = set()
    for n in report["killed"]:
        store = GlossaryStore(tmp_path / "work" / str(n), key.public_key())
        loaded = store.load()
        assert loaded is not None, f"cut at step {n}: no verified glossary on restart"
        expected = {1: old, 2: new}[loaded.statement.number]
        assert loaded.glossary.content_hash == expected.content_hash, f"cut at step {n}: mixed content"
        seen.add(loaded.statement.number)
        # The device can still take the update after the cut, and no half-written file stays behind.
        store.install(update.read_bytes())
        assert store.load().statement.number == 2  # type: ignore[union-attr]
        assert not list(store.directory.glob(".glossary-*")), f"cut at step {n}: a temp file stayed"
    assert seen == {1, 2}  # the cuts fell both before and after the switch
    full = GlossaryStore(tmp_path / "work" / "full", key.public_key()).load()
    assert full is not None and full.statement.number == 2


def test_pack_update_killed_at_every_step_restarts_on_old_or_new(tmp_path: Path) -> None:
    base = tmp_path / "store"
    install_pack(
        str(make_pack_dir(tmp_path / "v1", "rel-voice", "1.0", V1_PAYLOAD)),
        PackStore(base),
        cache_dir=tmp_path / "cache",
    )
    source = make_pack_dir(tmp_path / "v2", "rel-voice", "2.0", V2_PAYLOAD)

    report = power_cuts("pack", base, tmp_path / "work", source)

    assert report["killed"] == list(range(1, report["steps"] + 1))
    versions = set()
    for n in report["killed"]:
        root = tmp_path / "work" / str(n)
        store = open_store(EdgeSettings(home=tmp_path / "home", packs_dir=root))  # start-up
        pack = store.get("rel-voice")  # never absent: the old or the new version is in place
        verify_pack(pack)  # complete: every file's sha256 matches its manifest
        payload = {"1.0": V1_PAYLOAD, "2.0": V2_PAYLOAD}[pack.spec.version]
        assert {f.path: f.sha256 for f in pack.spec.files} == _digest(payload), f"cut at step {n}"
        assert sorted(p.name for p in pack.path.iterdir()) == sorted([*payload, "pack.json"])
        assert [p.name for p in root.iterdir() if p.name.startswith((".tmp-", ".old-"))] == []
        versions.add(pack.spec.version)
    assert versions == {"1.0", "2.0"}


def _fill(path: Path) -> None:
    """Fill the file system of ``path`` to the last block."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


@pytest.fixture
def small_disk(tmp_path: Path):
    with tmpfs(tmp_path / "small", "1m") as mount:
        if mount is None:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        yield mount


def test_disk_full_during_glossary_update_keeps_the_old_version(small_disk: Path, tmp_path: Path) -> None:
    """The pull is reported as failed with code ``disk_write``; version 1 stays in use and on disk."""
    key = generate_private_key()
    outbox = Outbox(tmp_path / "outbox.db")
    client = SyncClient("http://127.0.0.1:9", "token", key.public_key(), small_disk / "glossary", outbox)
    assert client._accept(envelope_bytes(key, small_glossary("one"), 1), None).status == "updated"
    _fill(small_disk / "filler")
    big = small_glossary("two", term_text="x" * 200_000)
    result = client._accept(envelope_bytes(key, big, 2), None)
    assert (result.status, result.error_code, result.number) == ("failed", "disk_write", 1)
    assert client.installed is not None and client.installed.statement.number == 1
    loaded = GlossaryStore(small_disk / "glossary", key.public_key()).load()
    assert loaded is not None and loaded.statement.number == 1
    leftovers = [p.name for p in (small_disk / "glossary").iterdir() if p.name != "current.json"]
    assert leftovers == []  # no half-written file
    outbox.close()


def test_disk_full_during_pack_update_keeps_the_old_version(small_disk: Path, tmp_path: Path) -> None:
    store = PackStore(small_disk / "packs")
    install_pack(
        str(make_pack_dir(tmp_path / "v1", "rel-voice", "1.0", V1_PAYLOAD)), store, cache_dir=tmp_path / "c"
    )
    huge = {**V2_PAYLOAD, "voice.onnx": b"2" * 2_000_000}
    source = make_pack_dir(tmp_path / "v2", "rel-voice", "2.0", huge)
    with pytest.raises(DiskFullError, match=r"no space left in .*nothing was installed"):
        install_pack(str(source), store, cache_dir=tmp_path / "c")
    pack = store.get("rel-voice")
    assert pack.spec.version == "1.0"
    verify_pack(pack)
    assert sorted(p.name for p in store.root.iterdir()) == ["rel-voice"]
    shutil.rmtree(tmp_path / "v2")
