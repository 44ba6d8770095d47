"""Upload caps: no header lifts them; model pack uploads are read only after the admin is checked."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from glossary.pack_signing import sign_pack
from glossary.signing import generate_private_key, public_key_pem
from tests.support.inprocess import ADMIN, App, basic, drive, running_app

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path: Path) -> Iterator[App]:
    yield from running_app(tmp_path, max_pack_upload_bytes=4 * MIB)


def _chunks(total_mib: int) -> Iterator[bytes]:
    """A multipart body (one file field) of ``total_mib`` MiB, produced lazily."""
    yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="g.csv"\r\n'
    yield b"Content-Type: text/csv\r\n\r\n"
    block = b"-" * MIB
    for _ in range(total_mib):
        yield block


#: The offline pack key of these tests (the server holds only its public half).
PACK_KEY = generate_private_key()


def _pack_tar(pack_id: str = "tiny-pack", size: int = 2 * MIB) -> bytes:
    """A signed pack (``pack.json``, ``pack.sig``, one file of ``size`` bytes) as a tarball."""
    payload = bytes(range(256)) * (size // 256)
    manifest = {
        "id": pack_id,
        "version": "0.1.0",
        "kind": "asr",
        "files": [{"path": "model.bin", "sha256": hashlib.sha256(payload).hexdigest(), "size_bytes": size}],
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        signature = json.dumps(sign_pack(PACK_KEY, manifest)).encode()
        members = (
            ("pack.json", json.dumps(manifest).encode()),
            ("pack.sig", signature),
            ("model.bin", payload),
        )
        for name, data in members:
            info = tarfile.TarInfo(f"{pack_id}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(
    "authorization",
    [basic("it-admin", "not-the-password"), basic("nobody", "x"), "Bearer " + "A" * 43, "Basic !!!"],
)
def test_a_bogus_authorization_header_does_not_open_the_pack_upload(server: App, authorization: str) -> None:
    """100 MiB with made-up credentials: refused with the body unread (old code read all of it)."""
    headers = {"authorization": authorization, "content-type": "multipart/form-data; boundary=x"}
    result = drive(server.app, "POST", "/api/v1/admin/packs", headers, _chunks(100))
    assert result.status in (401, 413)
    assert result.pulled < MIB, f"read {result.pulled} bytes before refusing"


def test_other_routes_keep_the_small_cap_whatever_the_headers(server: App) -> None:
    headers = {"authorization": basic(*ADMIN), "content-type": "multipart/form-data; boundary=x"}
    for path in ("/api/v1/admin/glossary", "/console/glossary/upload", "/api/v1/usage"):
        result = drive(server.app, "POST", path, headers, _chunks(100))
        assert result.status in (401, 413), path
        assert result.pulled <= 11 * MIB, (path, result.pulled)
        if path == "/api/v1/admin/glossary":  # the admin's own credentials: still the general cap
            assert result.status == 413
    declared = {**headers, "content-length": str(100 * MIB)}
    result = drive(server.app, "POST", "/api/v1/admin/glossary", declared, _chunks(100))
    assert (result.status, result.pulled) == (413, 0)


def test_an_admin_uploads_a_pack_streamed_and_capped(server: App) -> None:
    client = server.client
    (server.home / "pack-signing.pub").write_bytes(public_key_pem(PACK_KEY))
    tar = _pack_tar()
    reply = client.post(
        "/api/v1/admin/packs", files={"file": ("pack.tar", tar, "application/x-tar")}, auth=ADMIN
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["pack_id"] == "tiny-pack"
    raw = client.post(
        "/api/v1/admin/packs",
        content=_pack_tar("other-pack"),
        headers={"content-type": "application/x-tar"},
        auth=ADMIN,
    )
    assert raw.status_code == 201, raw.text
    assert (server.home / "packs" / "other-pack" / "0.1.0" / "model.bin").stat().st_size == 2 * MIB
    # Above the pack cap (4 MiB here): 413, and nothing is stored.
    tar_type = {"content-type": "application/x-tar"}
    big = client.post(
        "/api/v1/admin/packs", content=_pack_tar("big-pack", 6 * MIB), headers=tar_type, auth=ADMIN
    )
    assert big.status_code == 413
    assert not (server.home / "packs" / "big-pack").exists()
    assert list((server.home / "packs" / ".incoming").iterdir()) == []
    # No credentials at all: 401, not an upload.
    anon = client.post("/api/v1/admin/packs", content=tar, headers={"content-type": "application/x-tar"})
    assert anon.status_code == 401
