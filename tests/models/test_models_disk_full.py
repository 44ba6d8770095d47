"""A store on a real 2 MB tmpfs: running out of space fails cleanly and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import DiskFullError, PackStore, install_pack


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_disk_full_removes_the_temporary_directory(small_disk: Path, default_store: PackStore) -> None:
    """Copying a 63 MB voice onto 2 MB raises DiskFullError; the store is left empty."""
    store = PackStore(small_disk / "packs")
    voice = default_store.get("piper-en_US-joe-medium").runtime_path("model_file")
    with pytest.raises(DiskFullError, match=r"no space left in .*nothing was installed"):
        install_pack(str(voice), store, cache_dir=small_disk / "cache")
    assert os.listdir(store.root) == []
    assert store.installed() == []


def test_small_pack_still_fits(small_disk: Path, tiny_argosmodel: Path) -> None:
    """The same tmpfs holds a pack that fits (the failure above is about space, not the mount)."""
    store = PackStore(small_disk / "packs")
    pack = install_pack(str(tiny_argosmodel), store, cache_dir=small_disk / "cache")
    assert store.get(pack.id).spec.files
