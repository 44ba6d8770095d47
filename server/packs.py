"""Model packs the server distributes: checked on upload, stored on local disk, manifests signed.

IT uploads a pack (``madoguchi server packs add FILE`` or ``POST /api/v1/admin/packs``): a pack
directory, or a ``.tar``/``.tar.gz`` of one (a directory holding ``pack.json`` and its files, e.g. a
bundle's ``packs/<id>``). Every file is checked against the sha256 and size in ``pack.json``, the
files land in ``<home>/packs/<id>/<version>/`` (staged, then renamed: never half a pack), and the
server signs the statement ``{"purpose": "madoguchi-pack", "schema": 1, "pack": <pack.json>}``
(canonical bytes, Ed25519, the glossary key the devices already trust).

Storage is local disk. An S3-compatible object store would slot in behind :func:`pack_file_path`
(serve a presigned URL instead of the file); it is not built.

The server never imports the ``models`` package: ``pack.json`` is read as plain JSON here.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glossary.signing import canonical_bytes
from madoguchi.files import file_sha256
from server.errors import ServerError

_LOGGER = logging.getLogger(__name__)

PACK_PURPOSE: Final = "madoguchi-pack"
_SCHEMA: Final = 1
_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class PackUploadError(ServerError):
    """An uploaded pack is malformed, incomplete or does not match its own manifest."""


@dataclass(frozen=True)
class StoredPack:
    """A pack release on the server's disk, with its signed manifest."""

    pack_id: str
    version: str
    kind: str
    languages: list[str]
    size_bytes: int
    manifest: dict[str, Any]
    signature: str
    directory: Path


def pack_statement_bytes(pack: dict[str, Any]) -> bytes:
    """The bytes signed for a pack manifest (devices check the same statement)."""
    return canonical_bytes({"purpose": PACK_PURPOSE, "schema": _SCHEMA, "pack": pack})


def sign_pack(key: Ed25519PrivateKey, pack: dict[str, Any]) -> str:
    """Base64 Ed25519 signature of a pack manifest's statement."""
    return base64.b64encode(key.sign(pack_statement_bytes(pack))).decode("ascii")


def store_pack(source: Path, packs_root: Path, key: Ed25519PrivateKey) -> StoredPack:
    """Check a pack directory or tarball against its ``pack.json``, store it and sign its manifest.

    Raises:
        PackUploadError: not a pack, unsafe paths, a missing, extra-sized or altered file, or the
            same id and version already stored with other content.
    """
    with _unpacked(source) as directory:
        pack = _read_manifest(directory)
        pack_id, version = str(pack["id"]), str(pack["version"])
        for item in pack["files"]:
            _check_file(directory, item, pack_id)
        final = packs_root / pack_id / version
        if final.exists():
            existing = json.loads((final / "pack.json").read_text(encoding="utf-8"))
            if canonical_bytes(existing) != canonical_bytes(pack):
                raise PackUploadError(
                    f"pack {pack_id} {version} is already stored with other content; give it a new version"
                )
        else:
            _copy_in(directory, pack, final)
    size = sum(int(item["size_bytes"]) for item in pack["files"])
    _LOGGER.info("stored pack %s %s (%d files, %.1f MB)", pack_id, version, len(pack["files"]), size / 1e6)
    return StoredPack(
        pack_id=pack_id,
        version=version,
        kind=str(pack.get("kind", "")),
        languages=[str(code) for code in pack.get("languages", [])],
        size_bytes=size,
        manifest=pack,
        signature=sign_pack(key, pack),
        directory=final,
    )


def pack_file_path(
    packs_root: Path, pack_id: str, version: str, rel: str, manifest: dict[str, Any]
) -> Path | None:
    """The stored file ``rel`` of a pack release, only if the signed manifest lists it."""
    if not any(str(item["path"]) == rel for item in manifest.get("files", [])):
        return None
    path = packs_root / pack_id / version / rel
    return path if path.is_file() else None


# ---------------------------------------------------------------------------------------------- checks


@contextlib.contextmanager
def _unpacked(source: Path) -> Iterator[Path]:
    if source.is_dir():
        yield source
        return
    if not source.is_file():
        raise PackUploadError(f"{source}: no such file or directory")
    with tempfile.TemporaryDirectory(prefix="madoguchi-pack-") as tmp:
        try:
            with tarfile.open(source) as archive:
                archive.extractall(tmp, filter="data")  # refuses absolute paths, .., links outside
        except (tarfile.TarError, OSError) as exc:
            raise PackUploadError(f"{source.name}: not a readable .tar/.tar.gz of a pack ({exc})") from exc
        root = Path(tmp)
        entries = list(root.iterdir())
        if len(entries) == 1 and entries[0].is_dir() and not (root / "pack.json").exists():
            root = entries[0]
        yield root


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        pack = json.loads((directory / "pack.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackUploadError(
            "no pack.json in the upload; upload a pack directory (or its tarball)"
        ) from None
    except (OSError, ValueError) as exc:
        raise PackUploadError(f"pack.json is not valid JSON ({exc})") from exc
    if not isinstance(pack, dict) or not isinstance(pack.get("files"), list) or not pack["files"]:
        raise PackUploadError("pack.json has no file list; export the pack from a device store or bundle")
    for key in ("id", "version", "kind"):
        if not isinstance(pack.get(key), str) or not pack[key]:
            raise PackUploadError(f"pack.json has no '{key}'")
    if not _ID_RE.match(pack["id"]) or not _ID_RE.match(pack["version"]):
        raise PackUploadError(
            f"pack id {pack['id']!r} or version {pack['version']!r} has unusable characters"
        )
    return pack


def _check_file(directory: Path, item: Any, pack_id: str) -> None:
    if not isinstance(item, dict) or not item.get("path") or not item.get("sha256"):
        raise PackUploadError(f"pack {pack_id}: every file in pack.json needs a path and a sha256")
    rel = PurePosixPath(str(item["path"]))
    if rel.is_absolute() or ".." in rel.parts or rel.name == "pack.json":
        raise PackUploadError(f"pack {pack_id}: unsafe file path {rel}")
    path = directory / rel
    if not path.is_file():
        raise PackUploadError(f"pack {pack_id}: file {rel} is missing from the upload")
    size = path.stat().st_size
    if file_sha256(path) != item["sha256"] or (item.get("size_bytes") not in (None, size)):
        raise PackUploadError(f"pack {pack_id}: file {rel} does not match its sha256/size in pack.json")
    item["size_bytes"] = size


def _copy_in(directory: Path, pack: dict[str, Any], final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".tmp-{final.name}-{os.getpid()}-{os.urandom(4).hex()}"
    staging.mkdir()
    try:
        for item in pack["files"]:
            dest = staging / str(item["path"])
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(directory / str(item["path"]), dest)
        (staging / "pack.json").write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
