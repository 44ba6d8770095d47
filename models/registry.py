"""The pack store: installed packs on disk, looked up by id, kind, language and MT direction."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from madoguchi import paths
from madoguchi.files import file_sha256
from models.errors import ChecksumMismatch, PackFormatError, PackNotInstalled
from models.manifest import PackSpec

_LOGGER = logging.getLogger(__name__)

MANIFEST_NAME = "pack.json"
TEMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
_CHUNK_BYTES = 1 << 20


def madoguchi_home() -> Path:
    """The device's data directory (``madoguchi.paths.home``)."""
    return paths.home()


def default_store_dir() -> Path:
    """The pack store (``madoguchi.paths.packs_dir``)."""
    return paths.packs_dir()


def default_cache_dir() -> Path:
    """Downloaded wheels and files (``madoguchi.paths.cache_dir``)."""
    return paths.cache_dir()


@dataclass(frozen=True)
class InstalledPack:
    """A pack directory in the store and its manifest."""

    spec: PackSpec
    path: Path

    @property
    def id(self) -> str:
        """The pack id (from its manifest)."""
        return self.spec.id

    @property
    def kind(self) -> str:
        """The pack kind (from its manifest)."""
        return self.spec.kind

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the pack serves (from its manifest)."""
        return self.spec.languages

    @property
    def model_dir(self) -> Path:
        """The directory the engine loads (``runtime.model_dir``, default the pack directory)."""
        return self.path / str(self.spec.runtime.get("model_dir", "."))

    def runtime_path(self, key: str) -> Path:
        """The file named by ``runtime[key]`` (e.g. ``source_spm``, ``model_file``), relative to the pack."""
        try:
            return self.path / str(self.spec.runtime[key])
        except KeyError:
            raise PackFormatError(
                f"{self.path / MANIFEST_NAME}: key 'runtime.{key}' is missing; reinstall the pack"
            ) from None


def verify_pack(pack: InstalledPack, *, quick: bool = False) -> None:
    """Check every file of the pack; ``quick`` compares sizes only (cheap enough for start-up).

    Raises :class:`ChecksumMismatch` naming the first bad file and the command that repairs it.
    """
    fix = f"run `madoguchi models install {pack.id}` to repair it"
    for item in pack.spec.files:
        path = pack.path / item.path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ChecksumMismatch(f"pack '{pack.id}': file {item.path} is missing; {fix}") from None
        if item.size_bytes is not None and size != item.size_bytes:
            raise ChecksumMismatch(
                f"pack '{pack.id}': file {item.path} has {size} bytes, expected {item.size_bytes}; {fix}"
            )
        if quick or item.sha256 is None:
            continue
        actual = file_sha256(path)
        if actual != item.sha256:
            raise ChecksumMismatch(
                f"pack '{pack.id}': file {item.path} sha256 {actual[:12]}… differs from the manifest "
                f"({item.sha256[:12]}…); {fix}"
            )


#: Written in a pack directory after its first full check: the sha256 of the ``pack.json`` it checked.
VERIFIED_STAMP = ".verified"


def verify_installed(pack: InstalledPack) -> bool:
    """Start-up check: sizes always, every sha256 the first time (until the pack is reinstalled).

    A pack whose files all hash right gets a ``.verified`` stamp naming its manifest; later starts only
    compare sizes (a full check of a large model costs seconds). ``madoguchi edge check`` and
    ``madoguchi models verify`` always hash everything. Returns True when the full check ran.

    Raises :class:`ChecksumMismatch` naming the bad file and the command that repairs it.
    """
    verify_pack(pack, quick=True)
    stamp = pack.path / VERIFIED_STAMP
    manifest = hashlib.sha256((pack.path / MANIFEST_NAME).read_bytes()).hexdigest()
    try:
        if stamp.read_text(encoding="ascii").strip() == manifest:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    verify_pack(pack)
    try:
        stamp.write_text(manifest + "\n", encoding="ascii")
    except OSError as exc:  # a read-only store is checked in full on every start
        _LOGGER.debug("cannot write %s: %s", stamp, exc)
    return True


def read_pack(path: Path) -> InstalledPack:
    """Read ``path/pack.json``."""
    manifest = path / MANIFEST_NAME
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackFormatError(f"{manifest}: missing; reinstall the pack") from None
    except (OSError, ValueError) as exc:
        raise PackFormatError(f"{manifest}: not valid JSON ({exc}); reinstall the pack") from exc
    return InstalledPack(PackSpec.from_dict(data, str(manifest)), path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PackStore:
    """One directory of installed packs: ``<root>/<pack_id>/pack.json`` plus payload files."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_store_dir()

    def __repr__(self) -> str:
        return f"PackStore({str(self.root)!r})"

    def installed(self) -> list[InstalledPack]:
        """Every readable pack, sorted by id; unreadable ones are logged and skipped."""
        if not self.root.is_dir():
            return []
        packs = []
        for child in sorted(self.root.iterdir()):
            if child.name.startswith(".") or not (child / MANIFEST_NAME).is_file():
                continue
            try:
                packs.append(read_pack(child))
            except PackFormatError as exc:
                _LOGGER.warning("skipping pack %s: %s", child.name, exc)
        return packs

    def is_installed(self, pack_id: str) -> bool:
        """True when the store holds a manifest for ``pack_id``."""
        return (self.root / pack_id / MANIFEST_NAME).is_file()

    def get(self, pack_id: str) -> InstalledPack:
        """The installed pack ``pack_id``; raises :class:`PackNotInstalled`."""
        if not self.is_installed(pack_id):
            raise PackNotInstalled(
                f"pack '{pack_id}' is not installed in {self.root}; run `madoguchi models install {pack_id}`"
            )
        return read_pack(self.root / pack_id)

    def find(self, kind: str, language: str | None = None) -> list[InstalledPack]:
        """Installed packs of ``kind`` (asr/mt/tts) covering ``language``, largest (most accurate) first."""
        packs = [
            pack
            for pack in self.installed()
            if pack.kind == kind and (language is None or language in pack.languages)
        ]
        return sorted(packs, key=lambda pack: (-(pack.spec.size_bytes or 0), pack.id))

    def find_mt(self, source: str, target: str) -> InstalledPack | None:
        """A pack that translates ``source`` → ``target`` directly; pair packs before multilingual ones."""
        candidates = [pack for pack in self.installed() if pack.spec.translates(source, target)]
        if not candidates:
            return None
        return min(candidates, key=lambda pack: (pack.spec.directions is None, len(pack.languages), pack.id))

    def remove(self, pack_id: str) -> None:
        """Delete an installed pack (renamed away first, so a crash never leaves half a pack)."""
        target = self.root / pack_id
        if not self.is_installed(pack_id):
            raise PackNotInstalled(f"pack '{pack_id}' is not installed in {self.root}; nothing to remove")
        # A temporary name, not an old one: a crash here must not bring the pack back (see clean_leftovers).
        trash = self.root / f"{TEMP_PREFIX}removed-{pack_id}-{os.getpid()}-{os.urandom(4).hex()}"
        os.replace(target, trash)
        shutil.rmtree(trash, ignore_errors=True)
        _LOGGER.info("removed pack %s", pack_id)

    def clean_leftovers(self) -> list[Path]:
        """Remove temporary directories of installs that died (their process is gone).

        An update that died between moving the old version aside and moving the new one in leaves
        ``.old-<id>-…`` and no ``<id>``: the old version is moved back (if its files pass the size check).
        """
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for child in sorted(self.root.iterdir()):
            if not child.name.startswith((TEMP_PREFIX, OLD_PREFIX)) or not child.is_dir():
                continue
            pid = _pid_of(child.name)
            if pid is not None and pid != os.getpid() and _pid_alive(pid):
                continue
            if pid == os.getpid() and child.name.startswith(TEMP_PREFIX):
                continue  # an install running in this process
            if child.name.startswith(OLD_PREFIX) and self._restore_old(child):
                continue
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
            _LOGGER.info("removed leftover %s", child)
        return removed

    def _restore_old(self, old: Path) -> bool:
        """Move ``.old-<id>-<pid>-<rand>`` back to ``<id>`` when ``<id>`` is missing and it is whole."""
        pack_id = old.name.removeprefix(OLD_PREFIX).rsplit("-", 2)[0]
        if not pack_id or (self.root / pack_id).exists():
            return False
        try:
            pack = read_pack(old)
            verify_pack(pack, quick=True)
        except (PackFormatError, ChecksumMismatch):
            return False
        if pack.id != pack_id:
            return False
        os.replace(old, self.root / pack_id)
        _LOGGER.warning("restored pack %s %s after an interrupted update", pack_id, pack.spec.version)
        return True

    def free_bytes(self) -> int:
        """Free space where the store lives (its nearest existing parent)."""
        probe = self.root
        while not probe.exists():
            probe = probe.parent
        return shutil.disk_usage(probe).free


def _pid_of(name: str) -> int | None:
    """The pid embedded in ``.tmp-<id>-<pid>-<rand>`` (None when the name has no pid)."""
    parts = name.rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None
