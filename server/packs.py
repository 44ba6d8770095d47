"""Model packs the server distributes: checked on upload, stored on local disk, signatures relayed.

The server does not sign packs: a stolen server must not be able to push files to every counter. IT signs
a pack on another machine with the offline *pack key* (``madoguchi server packs sign DIR --key
pack-signing.key`` writes ``pack.sig``, see :mod:`glossary.pack_signing`) and uploads it
(``madoguchi server packs add FILE`` or ``POST /api/v1/admin/packs``): a pack directory, or a
``.tar``/``.tar.gz`` of one (a directory holding ``pack.json``, ``pack.sig`` and its files). The server
checks ``pack.sig`` with the pack key's public half (``<home>/pack-signing.pub``) and every file against
the sha256 and size in ``pack.json``; the files land in ``<home>/packs/<id>/<version>/`` (staged, then
renamed: never half a pack). Devices check the same signature with the pack key they pinned at enrollment.
A signed rollback statement (``packs sign-rollback``) is kept beside the version it goes back to.

Storage is local disk. An S3-compatible object store would slot in behind :func:`pack_file_path`
(serve a presigned URL instead of the file); it is not built.

The server never imports the ``models`` package: ``pack.json`` is read as plain JSON here.
"""

from __future__ import annotations

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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from glossary.errors import SignatureError
from glossary.pack_signing import PACK_SIGNATURE_FILE, verify_pack, verify_rollback
from glossary.signing import canonical_bytes, load_public_key
from madoguchi.files import file_sha256
from server.errors import ServerError

_LOGGER = logging.getLogger(__name__)

ROLLBACK_FILE: Final = "rollback.json"
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
    """The ``pack.sig`` document (compact JSON) made with the offline pack key."""
    directory: Path


def load_pack_key(path: Path) -> Ed25519PublicKey:
    """The pack key's public half that uploads must be signed with.

    Raises:
        PackUploadError: missing or not an Ed25519 public key.
    """
    try:
        return load_public_key(path.read_bytes())
    except FileNotFoundError:
        raise PackUploadError(
            f"no pack key at {path}: copy the public half of the offline pack key there "
            "(madoguchi server keygen --purpose pack, on the signing machine)"
        ) from None
    except (OSError, SignatureError) as exc:
        raise PackUploadError(f"pack key {path} is unusable: {exc}") from exc


def store_pack(source: Path, packs_root: Path, pack_key: Ed25519PublicKey) -> StoredPack:
    """Check a pack directory or tarball against its ``pack.json`` and its ``pack.sig``, and store it.

    Raises:
        PackUploadError: not a pack, unsigned or signed by another key, unsafe paths, a missing,
            extra-sized or altered file, or the same id and version already stored with other content.
    """
    with _unpacked(source) as directory:
        pack = read_pack_json(directory)
        pack_id, version = str(pack["id"]), str(pack["version"])
        for item in pack["files"]:
            _check_file(directory, item, pack_id)
        signature = _check_signature(directory, pack, pack_key)
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
        signature=json.dumps(signature, sort_keys=True, separators=(",", ":")),
        directory=final,
    )


def _check_signature(directory: Path, pack: dict[str, Any], pack_key: Ed25519PublicKey) -> dict[str, Any]:
    try:
        document = json.loads((directory / PACK_SIGNATURE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackUploadError(
            f"pack {pack['id']} has no {PACK_SIGNATURE_FILE}: sign it first on the machine with the pack key "
            "(madoguchi server packs sign DIR --key pack-signing.key)"
        ) from None
    except (OSError, ValueError) as exc:
        raise PackUploadError(f"{PACK_SIGNATURE_FILE} is not valid JSON ({exc})") from exc
    try:
        verify_pack(pack_key, pack, document)
    except SignatureError as exc:
        raise PackUploadError(str(exc)) from exc
    return dict(document)


def store_rollback(document: Any, packs_root: Path, pack_key: Ed25519PublicKey) -> dict[str, Any]:
    """Keep a signed rollback statement beside the release it goes back to; returns the statement.

    Raises:
        PackUploadError: not signed by the pack key, or the release to go back to is not stored.
    """
    try:
        statement = verify_rollback(pack_key, document)
    except SignatureError as exc:
        raise PackUploadError(str(exc)) from exc
    pack_id, version = str(statement["pack"]), str(statement["to_version"])
    if not (_ID_RE.match(pack_id) and _ID_RE.match(version)):
        raise PackUploadError(f"rollback names an unusable pack {pack_id!r} {version!r}")
    target = packs_root / pack_id / version
    if not (target / "pack.json").is_file():
        raise PackUploadError(f"pack {pack_id} {version} is not stored; upload it before rolling back to it")
    (target / ROLLBACK_FILE).write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    return statement


def stored_rollback(packs_root: Path, pack_id: str, version: str) -> dict[str, Any] | None:
    """The rollback statement kept for a release, if any (devices check its signature)."""
    path = packs_root / pack_id / version / ROLLBACK_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


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


def read_pack_json(directory: Path) -> dict[str, Any]:
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
    if rel.is_absolute() or ".." in rel.parts or rel.name in ("pack.json", PACK_SIGNATURE_FILE):
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
