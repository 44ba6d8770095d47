"""One key per purpose for packs, and pack versions that only go up unless IT signs a rollback.

A real server (uvicorn, SQLite) and real (tiny) packs: one small file each, so every check here is on the
signatures and the ordering, not on downloading models.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.fleet import ServerProcess
from edge.sync.packs import PackOffer, PackSync, PackSyncOptions
from glossary.signing import generate_private_key, private_key_pem, public_key_pem
from models import PackStore
from tests.support.deploy import run

pytestmark = pytest.mark.slow  # end to end through real processes

FAST_ARGON2 = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}
PACK = "tiny-voice"


def _cli(*args: str, server: ServerProcess) -> object:
    env = {"MADOGUCHI_SERVER_HOME": str(server.home), "MADOGUCHI_SERVER_DATABASE_URL": server.database_url}
    return run([sys.executable, "-c", "from madoguchi.cli import main; main()", "server", *args], env=env)


def _tiny_pack(directory: Path, version: str) -> Path:
    """A valid pack whose one file is a few bytes (its content names the version)."""
    directory.mkdir(parents=True)
    data = f"tiny pack {version}: tests of pack signatures and ordering\n".encode()
    (directory / "notes.txt").write_bytes(data)
    pack = {
        "schema": 1, "id": PACK, "kind": "tts", "engine": "piper", "format": "piper-onnx",
        "languages": ["en"],
        "version": version, "description": "test pack", "source": {"type": "local", "path": str(directory)},
        "files": [{"path": "notes.txt", "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}],
        "license": {"spdx": "CC0-1.0", "commercial_ok": True}, "runtime": {},
    }  # fmt: skip
    (directory / "pack.json").write_text(json.dumps(pack))
    return directory


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    for name in ("pack-signing", "other"):
        key = generate_private_key()
        (directory / f"{name}.key").write_bytes(private_key_pem(key))
        (directory / f"{name}.pub").write_bytes(public_key_pem(key))
    return directory


@pytest.fixture(scope="module")
def server(keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("server")
    (home / "pack-signing.pub").write_bytes((keys / "pack-signing.pub").read_bytes())
    proc = ServerProcess(home=home, database_url=f"sqlite:///{home / 'server.db'}", extra_env=FAST_ARGON2)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def token(server: ServerProcess) -> str:
    with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as admin:
        response = admin.post("/api/v1/admin/devices", json={"site": "city-hall", "device": "counter-7"})
        response.raise_for_status()
        return str(response.json()["token"])


def _sync(server: ServerProcess, token: str, key: Path, root: Path) -> PackSync:
    return PackSync(server.url, token, key.read_bytes(), PackStore(root / "packs"), root / "work",
                    options=PackSyncOptions(bandwidth_limit_bytes_per_s=None))  # fmt: skip


def test_server_accepts_only_packs_signed_with_the_pack_key(server, keys: Path, tmp_path: Path) -> None:
    """Unsigned, or signed with another key (e.g. the server's own glossary key): refused on upload."""
    pack = _tiny_pack(tmp_path / "p", "0.5")
    unsigned = _cli("packs", "add", str(pack), server=server)
    assert unsigned.returncode == 1 and "packs sign" in unsigned.stderr
    for other in (keys / "other.key", server.home / "glossary-signing.key"):
        assert _cli("packs", "sign", str(pack), "--key", str(other), server=server).returncode == 0
        refused = _cli("packs", "add", str(pack), server=server)
        assert refused.returncode == 1 and "not signed by the pack key" in refused.stderr


def test_device_refuses_a_pack_signed_with_the_glossary_key(keys: Path, tmp_path: Path) -> None:
    """A server whose pack key was swapped for its glossary key (stolen server, or a careless copy) signs
    and offers a pack: the device, which pinned the real pack key, refuses it and installs nothing."""
    home = tmp_path / "server"
    home.mkdir()
    swapped = ServerProcess(home=home, database_url=f"sqlite:///{home / 'server.db'}", extra_env=FAST_ARGON2)
    swapped.start()
    try:
        (home / "pack-signing.pub").write_bytes(swapped.public_key_path.read_bytes())
        pack = _tiny_pack(tmp_path / "p", "0.9")
        assert _cli("packs", "sign", str(pack), "--key", str(home / "glossary-signing.key"),
                    server=swapped).returncode == 0  # fmt: skip
        added = _cli("packs", "add", str(pack), server=swapped)
        assert added.returncode == 0, added.stderr
        with httpx.Client(base_url=swapped.url, auth=(swapped.admin_user, swapped.admin_password)) as admin:
            response = admin.post("/api/v1/admin/devices", json={"site": "s", "device": "d"})
            device_token = response.json()["token"]
        with _sync(swapped, device_token, keys / "pack-signing.pub", tmp_path / "device") as sync:
            report = sync.sync([PackOffer(PACK, "0.9")])
    finally:
        swapped.stop()
    assert report.failed == {PACK: "signature"} and report.installed == []
    assert not PackStore(tmp_path / "device" / "packs").is_installed(PACK)


def test_pack_versions_only_go_up_unless_it_signs_a_rollback(
    server, token: str, keys: Path, tmp_path
) -> None:
    """The device installs 2.0; a heartbeat steering it back to the (validly signed) 1.0 is refused; after
    IT signs a rollback 2.0 → 1.0 the server offers 1.0 with that statement and the device goes back."""
    for version in ("1.0", "2.0"):
        pack = _tiny_pack(tmp_path / version, version)
        assert (
            _cli(
                "packs", "sign", str(pack), "--key", str(keys / "pack-signing.key"), server=server
            ).returncode
            == 0
        )
        added = _cli("packs", "add", str(pack), server=server)
        assert added.returncode == 0, added.stderr
    device = tmp_path / "device"
    store = PackStore(device / "packs")
    with _sync(server, token, keys / "pack-signing.pub", device) as sync:
        assert sync.sync([PackOffer(PACK, "2.0")]).installed == [PACK]
        downgrade = sync.sync([PackOffer(PACK, "1.0")])
    assert downgrade.failed == {PACK: "downgrade"}
    assert store.get(PACK).spec.version == "2.0"

    # A rollback signed with another key is refused by the server; IT's is accepted and re-offers 1.0.
    forged = tmp_path / "forged.json"
    assert _cli("packs", "sign-rollback", "--pack", PACK, "--from", "2.0", "--to", "1.0", "--key",
                str(keys / "other.key"), "--out", str(forged), server=server).returncode == 0  # fmt: skip
    refused = _cli("packs", "rollback", str(forged), server=server)
    assert refused.returncode == 1 and "not signed by the pack key" in refused.stderr
    statement = tmp_path / "rollback.json"
    signing_key = str(keys / "pack-signing.key")
    assert _cli("packs", "sign-rollback", "--pack", PACK, "--from", "2.0", "--to", "1.0", "--key",
                signing_key, "--out", str(statement), server=server).returncode == 0  # fmt: skip
    rolled = _cli("packs", "rollback", str(statement), server=server)
    assert rolled.returncode == 0, rolled.stderr
    offers = httpx.get(f"{server.url}/api/v1/packs", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(o["id"], o["version"]) for o in offers["data"]] == [(PACK, "1.0")]
    with _sync(server, token, keys / "pack-signing.pub", device) as sync:
        back = sync.sync([PackOffer(PACK, "1.0")])
    assert back.installed == [PACK], back.failed
    assert store.get(PACK).spec.version == "1.0"
