"""File helpers every package shares: a file's sha256, and making a rename durable.

Imports nothing of ours, so every package may import it (like ``madoguchi.paths``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["file_sha256", "fsync_dir"]

_CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries to disk, so a rename or a new file in it survives a power cut.

    Raises:
        OSError: the directory cannot be opened or flushed.
    """
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
