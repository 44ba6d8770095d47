"""File helpers every package shares: a file's sha256, making a rename durable, owner-only files.

Imports nothing of ours, so every package may import it (like ``madoguchi.paths``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["file_sha256", "fsync_dir", "private_dir", "private_file", "write_private"]

_CHUNK_BYTES = 1 << 20
#: Keys, tokens and databases: the owner only, whatever the process umask.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


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


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700, also when it existed; returns it."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600 (an empty file when new); returns it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 (also when the file existed with another mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
        handle.write(data)
