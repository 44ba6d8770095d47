"""Pins: a catalogue pack installs from a fixed revision, and every file it fetches has a known sha256.

A catalogue entry is *fully pinned* when, by source type:

- ``pypi`` / ``npm``: every package is pinned (``==`` / ``@``, checked by the manifest) and every file has a
  sha256;
- ``hf``: the revision is a 40-hex commit, every file has a sha256 and every ``allow_patterns`` entry is
  covered by a listed file (the list is then exactly what is fetched, nothing is listed from the Hub);
- ``url`` / ``server``: the download has a sha256 (``source.sha256``); upstreams such as Argos and OPUS-MT
  publish no per-file hashes, so the archive is what is pinned.

Entries that cannot be pinned yet say so in the catalogue (``pinned: false`` and ``unpinned_reason``). The
installer refuses them unless IT opts in with ``--pin-on-first-install``: the first install then records
the commit and each file's sha256 in the local pin file (:class:`PinFile`, a catalogue overlay, mode 0600),
and every later install is verified against that record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Literal

from madoguchi import paths
from madoguchi.files import fsync_dir, write_private
from models.errors import PackFormatError, UnpinnedPack
from models.manifest import PackFile, PackSource, PackSpec

_LOGGER = logging.getLogger(__name__)

_COMMIT = re.compile(r"[0-9a-f]{40}")
_ARCHIVE_SOURCES = ("url", "server")
PIN_FLAG = "--pin-on-first-install"


def is_commit(revision: str | None) -> bool:
    """True for a full 40-hex git commit (an immutable revision; a branch or tag name can move)."""
    return bool(revision and _COMMIT.fullmatch(revision))


def missing_pins(spec: PackSpec) -> list[str]:
    """What ``spec`` lacks for a full pin, as short phrases (empty when fully pinned)."""
    source = spec.source
    if source.type in _ARCHIVE_SOURCES:
        return [] if source.sha256 else [f"the sha256 of the download {source.url}"]
    missing = []
    if source.type == "hf" and not is_commit(source.revision):
        missing.append(f"a commit revision ({source.repo}@{source.revision or 'no revision'} can move)")
    if not spec.files:
        missing.append("the list of its files")
    if source.type == "hf" and not any(item.parts for item in spec.files):
        # A pinned entry fetches exactly its files: each allow-pattern must be covered by a listed file.
        uncovered = [p for p in source.allow_patterns if not any(fnmatch(f.path, p) for f in spec.files)]
        if uncovered:
            missing.append(f"the files matching {', '.join(uncovered)}")
    unhashed = [item.path for item in spec.files if not item.sha256]
    if unhashed:
        shown = ", ".join(unhashed[:4]) + (f" and {len(unhashed) - 4} more" if len(unhashed) > 4 else "")
        missing.append(f"the sha256 of {shown}")
    return missing


@dataclass(frozen=True)
class PinDecision:
    """How a catalogue install is pinned: by the catalogue, by a local record, or recorded by this install."""

    spec: PackSpec
    origin: Literal["catalogue", "local", "first-install"]
    recorded_at: str | None = None


class PinFile:
    """The local pin file: ``{"schema": 1, "packs": {id: {"recorded_at", "source", "files"}}}`` (0600)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.model_pins_file()

    def __repr__(self) -> str:
        return f"PinFile({str(self.path)!r})"

    def load(self) -> dict[str, Any]:
        """The recorded pins by pack id (empty when the file does not exist)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise PackFormatError(
                f"{self.path}: cannot read the local pins ({exc}); restore the file from a backup or "
                f"delete it and pin again with {PIN_FLAG}"
            ) from exc
        packs = data.get("packs") if isinstance(data, dict) else None
        if not isinstance(packs, dict):
            raise PackFormatError(f"{self.path}: key 'packs' must be an object; restore or delete the file")
        return packs

    def apply(self, spec: PackSpec) -> tuple[PackSpec, str | None]:
        """``spec`` with the recorded revision and sha256 values, and when they were recorded."""
        record = self.load().get(spec.id)
        if record is None:
            return spec, None
        where = f"packs.{spec.id}"
        if not isinstance(record, dict):
            raise PackFormatError(f"{self.path}: key '{where}' must be an object; restore or delete the file")
        source = PackSource.from_dict(record.get("source"), str(self.path), f"{where}.source")
        if not _same_origin(source, spec.source):
            _LOGGER.warning("the local pin of %s was recorded for another source; it is ignored", spec.id)
            return spec, None
        pinned_source = dataclasses.replace(spec.source, revision=source.revision, sha256=source.sha256)
        files = spec.files
        if spec.source.type not in _ARCHIVE_SOURCES:
            recorded = [
                PackFile.from_dict(item, str(self.path), f"{where}.files[{index}]")
                for index, item in enumerate(record.get("files") or [])
            ]
            files = _merge_files(spec.files, recorded)
        return dataclasses.replace(spec, source=pinned_source, files=files), str(record.get("recorded_at"))

    def record(self, spec: PackSpec) -> None:
        """Record the revision and file hashes of a pack just installed from ``spec``'s source."""
        source = {k: v for k, v in spec.source.to_dict().items() if k not in ("path", "allow_patterns")}
        entry: dict[str, Any] = {
            "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": source,
        }
        if spec.source.type not in _ARCHIVE_SOURCES:
            entry["files"] = [
                {"path": item.path, "sha256": item.sha256, "size_bytes": item.size_bytes}
                for item in spec.files
            ]
        with self._locked():
            packs = self.load()
            packs[spec.id] = entry
            self._write(packs)
        _LOGGER.warning("pinned %s in %s on first install", spec.id, self.path)

    def remove(self, pack_id: str) -> bool:
        """Forget the pin of ``pack_id``; False when none was recorded."""
        with self._locked():
            packs = self.load()
            if packs.pop(pack_id, None) is None:
                return False
            self._write(packs)
        return True

    def _write(self, packs: dict[str, Any]) -> None:
        document = {
            "schema": 1,
            "note": f"Pins recorded by `madoguchi models install {PIN_FLAG}`; verified on every install.",
            "packs": dict(sorted(packs.items())),
        }
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}")
        write_private(tmp, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time (two installs may record pins at once)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def decide(
    spec: PackSpec, pins: PinFile, *, pin_on_first_install: bool, reason: str | None = None
) -> PinDecision:
    """The pinned spec to install, or :class:`UnpinnedPack` naming what is missing and how IT opts in."""
    missing = missing_pins(spec)
    if not missing:
        return PinDecision(spec, "catalogue")
    overlaid, recorded_at = pins.apply(spec)
    if recorded_at is not None and not missing_pins(overlaid):
        return PinDecision(overlaid, "local", recorded_at)
    if pin_on_first_install:
        return PinDecision(spec, "first-install")
    why = f". Why: {reason}" if reason else ""
    raise UnpinnedPack(
        f"catalogue pack '{spec.id}' is not pinned; missing: {'; '.join(missing)}{why}. Installing it would "
        f"trust whatever the source serves today; if IT accepts that, run `madoguchi models install "
        f"{spec.id} {PIN_FLAG}`: it records the revision and each file's sha256 in {pins.path} and "
        "verifies every later install against them"
    )


def _same_origin(recorded: PackSource, current: PackSource) -> bool:
    """The record was made for this source (a catalogue commit that differs makes the record stale)."""
    if (recorded.type, recorded.repo, recorded.url, recorded.packages) != (
        current.type,
        current.repo,
        current.url,
        current.packages,
    ):
        return False
    return not is_commit(current.revision) or current.revision == recorded.revision


def _merge_files(listed: tuple[PackFile, ...], recorded: list[PackFile]) -> tuple[PackFile, ...]:
    """The catalogue's files (keeping ``parts`` and md5) with recorded hashes, then files only recorded."""
    by_path = {item.path: item for item in recorded}
    merged = [
        dataclasses.replace(
            item,
            sha256=item.sha256 or by_path[item.path].sha256,
            size_bytes=item.size_bytes if item.size_bytes is not None else by_path[item.path].size_bytes,
        )
        if item.path in by_path
        else item
        for item in listed
    ]
    known = {item.path for item in listed}
    return tuple(merged + [item for item in recorded if item.path not in known])
