"""Every directory comes from ``madoguchi.paths``: the device, the pack store and the server agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import EdgeSettings
from madoguchi import paths
from models import PackStore
from server.core.config import ServerSettings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("MADOGUCHI_HOME", "MADOGUCHI_PACKS", "MADOGUCHI_PACKS_DIR", "MADOGUCHI_SERVER_HOME",
                 "MADOGUCHI_CACHE", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_xdg_data_home_moves_every_data_directory(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With only XDG_DATA_HOME set, the counter, the pack store and the server use the same home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(clean_env / "xdg"))
    home = clean_env / "xdg" / "madoguchi"
    assert paths.home() == home
    assert EdgeSettings().home == home
    assert EdgeSettings().store_dir == home / "packs"
    assert PackStore().root == home / "packs"
    assert ServerSettings().home == home / "server"


def test_madoguchi_home_wins_over_xdg(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(clean_env / "xdg"))
    monkeypatch.setenv("MADOGUCHI_HOME", str(clean_env / "mh"))
    assert EdgeSettings().home == clean_env / "mh"
    assert PackStore().root == clean_env / "mh" / "packs"
    assert ServerSettings().home == clean_env / "mh" / "server"


def test_defaults_and_explicit_dirs(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.home() == clean_env / ".local" / "share" / "madoguchi"
    assert paths.cache_dir() == clean_env / ".cache" / "madoguchi"
    monkeypatch.setenv("MADOGUCHI_PACKS", str(clean_env / "p"))
    monkeypatch.setenv("MADOGUCHI_SERVER_HOME", str(clean_env / "s"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(clean_env / "c"))
    assert PackStore().root == clean_env / "p"
    assert ServerSettings().home == clean_env / "s"
    assert paths.cache_dir() == clean_env / "c" / "madoguchi"
