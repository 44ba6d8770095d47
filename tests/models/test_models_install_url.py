"""Installing from URLs served by a real HTTP server on 127.0.0.1: resume, checksums, unreachable hosts."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import socket
from pathlib import Path

import pytest

from models import (
    Catalogue,
    ChecksumMismatch,
    PackFile,
    PackSourceError,
    PackStore,
    UnknownPack,
    install_pack,
)
from models.fetch import cache_name


def _serve(file_server, archive: Path) -> str:
    shutil.copyfile(archive, file_server.root / archive.name)
    return f"{file_server.url}/{archive.name}"


def test_url_install(file_server, tiny_argosmodel: Path, tmp_path: Path) -> None:
    """The download reports progress up to the full size; the pack records where it came from."""
    url = _serve(file_server, tiny_argosmodel)
    seen: dict[str, tuple[int, int | None]] = {}
    pack = install_pack(
        url,
        PackStore(tmp_path / "store"),
        cache_dir=tmp_path / "cache",
        progress=lambda label, done, total: seen.__setitem__(label, (done, total)),
    )
    size = tiny_argosmodel.stat().st_size
    assert seen[cache_name(url)] == (size, size)
    assert pack.id == "argos-ja-en" and pack.spec.source.url == url
    assert (tmp_path / "cache" / "downloads" / cache_name(url)).is_file()
    assert file_server.requests == [{"path": "/translate-ja_en-1_1.argosmodel", "range": ""}]


def test_partial_download_resumes_with_range(file_server, tiny_argosmodel: Path, tmp_path: Path) -> None:
    """A dropped connection leaves a .part file; the next attempt asks only for the missing bytes."""
    url = _serve(file_server, tiny_argosmodel)
    store, cache = PackStore(tmp_path / "store"), tmp_path / "cache"
    file_server.drop_after_bytes = 50_000
    with pytest.raises(PackSourceError, match="run the same command again to resume"):
        install_pack(url, store, cache_dir=cache)
    part = cache / "downloads" / (cache_name(url) + ".part")
    assert part.stat().st_size == 50_000
    assert store.installed() == [] and os.listdir(store.root) == []

    pack = install_pack(url, store, cache_dir=cache)
    assert file_server.requests[-1]["range"] == "bytes=50000-"
    downloaded = cache / "downloads" / cache_name(url)
    assert downloaded.read_bytes() == tiny_argosmodel.read_bytes()
    assert pack.id == "argos-ja-en" and not part.exists()


def test_wrong_sha256_fragment_is_rejected(file_server, tiny_argosmodel: Path, tmp_path: Path) -> None:
    url = _serve(file_server, tiny_argosmodel)
    store, cache = PackStore(tmp_path / "store"), tmp_path / "cache"
    with pytest.raises(ChecksumMismatch, match="corrupt or tampered download"):
        install_pack(f"{url}#sha256={'0' * 64}", store, cache_dir=cache)
    assert os.listdir(store.root) == [] and os.listdir(cache / "downloads") == []
    good = hashlib.sha256(tiny_argosmodel.read_bytes()).hexdigest()
    assert install_pack(f"{url}#sha256={good}", store, cache_dir=cache).id == "argos-ja-en"


def test_catalogue_url_pack_with_corrupt_file(file_server, tiny_argosmodel: Path, tmp_path: Path) -> None:
    """A catalogue entry whose recorded sha256 differs from what arrives installs nothing at all."""
    url = _serve(file_server, tiny_argosmodel)
    entry = Catalogue.load().get("argos-ja-en")
    pinned = dataclasses.replace(
        entry,
        source=dataclasses.replace(entry.source, url=url),
        files=(PackFile(path="metadata.json", sha256="f" * 64),),
    )
    store = PackStore(tmp_path / "store")
    with pytest.raises(ChecksumMismatch, match=r"metadata\.json has sha256 .* nothing was installed"):
        install_pack("argos-ja-en", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([pinned]))
    assert os.listdir(store.root) == []
    assert os.listdir(tmp_path / "cache" / "downloads") == []  # the next attempt downloads it again


def test_unreachable_host_says_how_to_install_offline(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = PackStore(tmp_path / "store")
    with pytest.raises(
        PackSourceError, match=r"cannot reach 127\.0\.0\.1:\d+ .*madoguchi models install FILE"
    ):
        install_pack(
            f"http://127.0.0.1:{port}/x.argosmodel", store, cache_dir=tmp_path / "cache", timeout_s=5
        )
    assert os.listdir(store.root) == []


def test_http_404_and_unknown_name(file_server, tmp_path: Path) -> None:
    store = PackStore(tmp_path / "store")
    with pytest.raises(PackSourceError, match="HTTP 404"):
        install_pack(f"{file_server.url}/missing.argosmodel", store, cache_dir=tmp_path / "cache")
    with pytest.raises(UnknownPack, match="did you mean quickmt-ja-en"):
        install_pack("quickmt-ja-eng", store)
