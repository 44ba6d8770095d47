"""Every directory madoguchi uses, computed in one place.

Imports nothing of ours, so every package (models, edge, server, deploy, bench) may import it.

    home()       $MADOGUCHI_HOME, else $XDG_DATA_HOME/madoguchi, else ~/.local/share/madoguchi
    packs_dir()  $MADOGUCHI_PACKS_DIR or $MADOGUCHI_PACKS, else home()/packs
    server_home()$MADOGUCHI_SERVER_HOME, else home()/server
    cache_dir()  $MADOGUCHI_CACHE, else $XDG_CACHE_HOME/madoguchi, else ~/.cache/madoguchi
    model_pins_file()  home()/model-pins.json (pins IT recorded for catalogue packs upstream left unpinned)

Each reads the environment when called, so a setting changed at run time (or by a test) is honoured.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "home", "model_pins_file", "packs_dir", "server_home"]


def _env_path(*names: str) -> Path | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return Path(value).expanduser()
    return None


def home() -> Path:
    """The data directory of this device (packs, glossary, enrollment, TLS, outbox)."""
    explicit = _env_path("MADOGUCHI_HOME")
    if explicit is not None:
        return explicit
    xdg = _env_path("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return xdg / "madoguchi"


def packs_dir() -> Path:
    """The model pack store."""
    return _env_path("MADOGUCHI_PACKS_DIR", "MADOGUCHI_PACKS") or home() / "packs"


def server_home() -> Path:
    """The central server's directory (SQLite database, signing keys)."""
    return _env_path("MADOGUCHI_SERVER_HOME") or home() / "server"


def model_pins_file() -> Path:
    """The revisions and sha256 values recorded on a first install of packs the catalogue cannot pin."""
    return home() / "model-pins.json"


def cache_dir() -> Path:
    """Downloads (wheels, pack files) and other re-creatable data."""
    explicit = _env_path("MADOGUCHI_CACHE")
    if explicit is not None:
        return explicit
    xdg = _env_path("XDG_CACHE_HOME") or Path.home() / ".cache"
    return xdg / "madoguchi"
