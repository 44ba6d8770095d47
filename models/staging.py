"""Atomic pack installation: a temporary directory, hashed writes, ``pack.json``, fsync, rename.

Files land in ``<store>/.tmp-<id>-<pid>-<rand>``; each is hashed while written (and checked when the manifest
knows its sha256); :func:`commit` writes ``pack.json``, fsyncs, and renames the directory into place. A
failure removes the temporary directory, so a pack is the old version, the new one or absent, never half.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from madoguchi.files import fsync_dir
from models.errors import ChecksumMismatch, DiskFullError, ModelPackError, PackFormatError, PackSourceError
from models.fetch import ProgressCallback
from models.manifest import PackFile, PackSpec
from models.registry import MANIFEST_NAME, OLD_PREFIX, TEMP_PREFIX, InstalledPack, PackStore, file_sha256

_LOGGER = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20


def write_file(
    root: Path,
    rel: str,
    sources: list[BinaryIO],
    expected: PackFile | None,
    progress: ProgressCallback | None,
    *,
    origin: str,
) -> PackFile:
    """Concatenate ``sources`` into ``root/rel`` while hashing; check against ``expected``."""
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False) if expected and expected.md5 else None
    size = 0
    total = expected.size_bytes if expected else None
    try:
        with dest.open("wb") as out:
            for source in sources:
                with source:
                    while chunk := source.read(_CHUNK_BYTES):
                        out.write(chunk)
                        digest.update(chunk)
                        if md5 is not None:
                            md5.update(chunk)
                        size += len(chunk)
                        if progress:
                            progress(rel, size, total)
            out.flush()
            os.fsync(out.fileno())
    finally:
        for source in sources:
            source.close()
    actual = PackFile(
        path=rel, sha256=digest.hexdigest(), size_bytes=size, md5=md5.hexdigest() if md5 else None
    )
    return check_file(actual, expected, origin)


def write_members(
    root: Path,
    spec: PackSpec,
    names: Container[str],
    open_member: Callable[[str], IO[bytes]],
    where: str,
    progress: ProgressCallback | None,
) -> list[PackFile]:
    """Write each file of ``spec`` from members of downloaded archives (its ``parts`` in order).

    Raises:
        PackFormatError: a member the catalogue names is not in the archives (``where``).
    """
    written = []
    for item in spec.files:
        parts = item.parts or (item.path,)
        missing = [part for part in parts if part not in names]
        if missing:
            raise PackFormatError(
                f"pack '{spec.id}': {missing[0]} is not in {where}; "
                "the catalogue entry does not match the package"
            )
        sources = [open_member(part) for part in parts]
        written.append(write_file(root, item.path, sources, item, progress, origin=spec.id))
    return written


def hash_file(root: Path, rel: str, expected: PackFile | None) -> PackFile:
    """Hash ``root/rel`` in place and check it against ``expected`` (when given)."""
    path = root / rel
    return check_file(
        PackFile(path=rel, sha256=file_sha256(path), size_bytes=path.stat().st_size), expected, rel
    )


def check_file(actual: PackFile, expected: PackFile | None, origin: str) -> PackFile:
    """``actual`` with upstream's md5 kept; raises :class:`ChecksumMismatch` if sha256, size or md5 differ."""
    if expected is None:
        return actual
    if expected.sha256 and expected.sha256 != actual.sha256:
        raise ChecksumMismatch(
            f"{origin}: {actual.path} has sha256 {actual.sha256[:12]}…, expected {expected.sha256[:12]}… "
            "(corrupt or partial download); nothing was installed, try again"
        )
    if expected.size_bytes is not None and expected.size_bytes != actual.size_bytes:
        raise ChecksumMismatch(
            f"{origin}: {actual.path} has {actual.size_bytes} bytes, expected {expected.size_bytes} "
            "(corrupt or partial download); nothing was installed, try again"
        )
    if expected.md5 and actual.md5 and expected.md5 != actual.md5:
        raise ChecksumMismatch(
            f"{origin}: {actual.path} has md5 {actual.md5}, upstream publishes {expected.md5} "
            "(corrupt or changed upstream); nothing was installed, try again"
        )
    return dataclasses.replace(actual, md5=expected.md5)


def total_bytes(files: list[PackFile]) -> int:
    """Sum of the known file sizes (bytes); unknown sizes count as 0."""
    return sum(item.size_bytes or 0 for item in files)


# ---- atomic commit


@contextlib.contextmanager
def staging(store: PackStore, hint: str) -> Iterator[Path]:
    """A fresh ``<store>/.tmp-<hint>-<pid>-<rand>``, removed unless committed."""
    tmp = store.root / f"{TEMP_PREFIX}{hint}-{os.getpid()}-{os.urandom(4).hex()}"
    tmp.mkdir(parents=True)
    try:
        with disk_errors(store.root, hint):
            yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def disk_errors(where: Path, what: str) -> Iterator[None]:
    """Re-raise OS errors while installing ``what`` as DiskFullError or PackSourceError."""
    try:
        yield
    except ModelPackError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(
                f"no space left in {where} while installing {what}; nothing was installed. "
                "Free some space or use another --store"
            ) from exc
        raise PackSourceError(
            f"cannot install {what}: {exc.strerror or exc} ({exc.filename or where})"
        ) from exc


def commit(store: PackStore, staged: Path, spec: PackSpec, *, final: Path | None = None) -> InstalledPack:
    """Write the manifest into ``staged`` and swap it into the store atomically (old version removed)."""
    (staged / MANIFEST_NAME).write_text(json.dumps(spec.to_dict(), indent=2, ensure_ascii=False) + "\n")
    _fsync_tree(staged)
    final = final or store.root / spec.id
    old = None
    if final.exists():
        old = store.root / f"{OLD_PREFIX}{spec.id}-{os.getpid()}-{os.urandom(4).hex()}"
        os.replace(final, old)
    os.replace(staged, final)
    fsync_dir(store.root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    _LOGGER.info("installed pack %s %s (%d files, %.1f MB)", spec.id, spec.version, len(spec.files),
                 (spec.size_bytes or 0) / 1e6)  # fmt: skip
    return InstalledPack(spec, final)


def _fsync_tree(root: Path) -> None:
    with open(root / MANIFEST_NAME, "rb") as handle:
        os.fsync(handle.fileno())
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        fsync_dir(directory)
