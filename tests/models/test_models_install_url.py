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
from models.errors import UnpinnedPack
from models.fetch import cache_name
from models.pins import PinFile
from tests.support.tiny_models import zip_dir


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
        source=dataclasses.replace(entry.source, url=url, sha256=_sha256(tiny_argosmodel)),
        files=(PackFile(path="metadata.json", sha256="f" * 64),),
    )
    store = PackStore(tmp_path / "store")
    with pytest.raises(ChecksumMismatch, match=r"metadata\.json has sha256 .* nothing was installed"):
        install_pack("argos-ja-en", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([pinned]))
    assert os.listdir(store.root) == []
    assert os.listdir(tmp_path / "cache" / "downloads") == []  # the next attempt downloads it again


def test_catalogue_archive_pin_refuses_other_bytes(
    file_server, tiny_argosmodel: Path, tmp_path: Path
) -> None:
    """argos-ja-en pins the real .argosmodel's sha256: any other archive is refused and deleted."""
    entry = Catalogue.load().get("argos-ja-en")
    assert entry.source.sha256 == "623e3477959a815eb0a5ef53e09079ae8f1f9d3bbcd230473baf28c03fb83335"
    moved = dataclasses.replace(
        entry, source=dataclasses.replace(entry.source, url=_serve(file_server, tiny_argosmodel))
    )
    store = PackStore(tmp_path / "store")
    with pytest.raises(ChecksumMismatch, match="corrupt or tampered download"):
        install_pack("argos-ja-en", store, cache_dir=tmp_path / "cache", catalogue=Catalogue([moved]))
    assert os.listdir(store.root) == [] and os.listdir(tmp_path / "cache" / "downloads") == []


def test_unpinned_archive_is_pinned_on_first_install(
    file_server, tiny_argosmodel: Path, tiny_argos_dir: Path, tmp_path: Path
) -> None:
    """No upstream hash: refused by default; IT's first install records the archive sha256, then enforced."""
    entry = Catalogue.load().get("argos-ja-en")
    url = _serve(file_server, tiny_argosmodel)
    unpinned = dataclasses.replace(entry, source=dataclasses.replace(entry.source, url=url, sha256=None))
    catalogue = Catalogue([unpinned], {"argos-ja-en": "the Argos index publishes no hash"})
    pins = PinFile(tmp_path / "home" / "model-pins.json")

    def install(name: str, **kwargs: object):
        return install_pack(
            "argos-ja-en", PackStore(tmp_path / name), cache_dir=tmp_path / f"cache-{name}",
            catalogue=catalogue, pins=pins, **kwargs,
        )  # fmt: skip

    with pytest.raises(
        UnpinnedPack, match=r"missing: the sha256 of the download .*Argos index publishes no hash"
    ):
        install("refused")
    assert file_server.requests == []
    pack = install("first", pin_on_first_install=True)
    assert pack.spec.source.sha256 == _sha256(tiny_argosmodel)
    assert pins.load()["argos-ja-en"]["source"]["sha256"] == _sha256(tiny_argosmodel)
    assert install("second").spec.source.sha256 == _sha256(tiny_argosmodel)  # verified against the pin

    changed = shutil.copytree(tiny_argos_dir, tmp_path / "changed" / tiny_argos_dir.name)
    (changed / "README.md").write_text("changed upstream\n")
    zip_dir(changed, file_server.root / tiny_argosmodel.name)
    with pytest.raises(ChecksumMismatch, match=r"pinned in .* no longer matches"):
        install("third")
    assert os.listdir(tmp_path / "third") == [] and os.listdir(tmp_path / "cache-third" / "downloads") == []


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
