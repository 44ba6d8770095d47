"""Packs from the central server, end to end: upload, offer in the heartbeat, interrupted and resumed
download, a corrupt byte refused, kill -9 during install, and the new pack set in the next heartbeat.

A real server (uvicorn, SQLite) and a real pack (whisper-tiny, 78 MB); the device runs in this process
or, where it has to die mid-way, in a child process killed with SIGKILL. Packs are signed with the
offline pack key (``madoguchi server packs sign``), never by the server; the server knows the key's
public half, the device pins it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.fleet import ServerProcess
from edge.sync.packs import PackSync, PackSyncOptions, offers_from_reply
from models import PackStore, install_pack, verify_pack
from tests.support.deploy import REPO, run
from tests.support.servers import central_server

pytestmark = pytest.mark.slow  # end to end through real processes

PACK = "whisper-tiny"
OLD_PACK = "piper-en_US-joe-medium"

#: A device round in a child process (so the test can kill it like a power cut).
_CHILD = """
import json, sys
from pathlib import Path
from edge.sync.packs import PackSync, PackSyncOptions, PackOffer
from models import PackStore
args = json.loads(sys.argv[1])
first = Path(args["first_offset_file"])
def progress(rel, done, total):
    if not first.exists():
        first.write_text(json.dumps({"file": rel, "offset": done}))
sync = PackSync(args["url"], args["token"], Path(args["pack_key"]).read_bytes(), PackStore(args["store"]),
                Path(args["work"]), options=PackSyncOptions(bandwidth_limit_bytes_per_s=args["limit"]),
                on_progress=progress)
print(sync.sync([PackOffer(**o) for o in args["offers"]]))
"""


pytestmark = pytest.mark.slow  # end to end through real processes


@pytest.fixture(scope="module")
def pack_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The offline pack key (private, public), as `madoguchi server keygen --purpose pack` writes it."""
    from glossary.signing import generate_private_key, private_key_pem, public_key_pem

    directory = tmp_path_factory.mktemp("pack-key")
    key = generate_private_key()
    (directory / "pack-signing.key").write_bytes(private_key_pem(key))
    (directory / "pack-signing.pub").write_bytes(public_key_pem(key))
    return directory / "pack-signing.key", directory / "pack-signing.pub"


def sign_pack_dir(directory: Path, key: Path) -> None:
    """`madoguchi server packs sign DIR --key KEY` (what IT runs on the signing machine)."""
    signed = run([sys.executable, "-c", "from madoguchi.cli import main; main()", "server", "packs", "sign",
                  str(directory), "--key", str(key)])  # fmt: skip
    assert signed.returncode == 0, signed.stderr[-2000:]


@pytest.fixture
def server(pack_key, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A central server of its own for each test (the tests publish different releases)."""
    home = tmp_path_factory.mktemp("pack-server")
    (home / "pack-signing.pub").write_bytes(pack_key[1].read_bytes())
    with central_server(home) as proc:
        yield proc


@pytest.fixture
def device(server: ServerProcess, pack_key, default_store, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An enrolled device whose store already holds the English voice (its "old pack set")."""
    with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as admin:
        response = admin.post("/api/v1/admin/devices", json={"site": "city-hall", "device": "counter-1"})
        response.raise_for_status()
        token = response.json()["token"]
    root = tmp_path_factory.mktemp("device")
    store = PackStore(root / "packs")
    install_pack(str(default_store.root / OLD_PACK), store)
    return {"token": token, "store": store, "work": root / "pack-downloads", "root": root,
            "pack_key": pack_key[1].read_bytes(), "pack_key_path": pack_key[1]}  # fmt: skip


def _add_release(server: ServerProcess, source: Path) -> None:
    """IT uploads a pack (a tarball or a pack directory) with the server CLI."""
    env = {"MADOGUCHI_SERVER_HOME": str(server.home), "MADOGUCHI_SERVER_DATABASE_URL": server.database_url}
    added = run([sys.executable, "-c", "from madoguchi.cli import main; main()", "server", "packs", "add",
                 str(source)], env=env)  # fmt: skip
    assert added.returncode == 0, added.stderr[-2000:]


def _signed(pack_dir: Path, key: Path, tmp: Path) -> Path:
    """A copy of a pack directory (links to its files) with a pack.sig made by the pack key."""
    copy = tmp / f"signed-{pack_dir.name}-{time.monotonic_ns()}"
    copy.mkdir()
    for item in pack_dir.iterdir():
        if item.name != "pack.sig":
            (copy / item.name).symlink_to(item.resolve())
    sign_pack_dir(copy, key)
    return copy


def _heartbeat(server: ServerProcess, device: dict) -> dict:
    """A real heartbeat from the device's sync client, reporting its installed packs."""
    from edge.sync.client import SyncClient
    from edge.sync.outbox import Outbox

    async def beat() -> dict:
        outbox = Outbox(device["root"] / "outbox.db")
        client = SyncClient(
            server.url, device["token"], server.public_key_path.read_bytes(), device["root"] / "glossary",
            outbox, pack_ids=lambda: [pack.id for pack in device["store"].installed()],
        )  # fmt: skip
        try:
            reply = await client.heartbeat()
        finally:
            await client.aclose()
            outbox.close()
        assert reply is not None, "heartbeat failed"
        return reply

    return asyncio.run(beat())


def _child(server: ServerProcess, device: dict, offers: list[dict], limit: float | None, tmp: Path):  # type: ignore[no-untyped-def]
    args = {
        "url": server.url, "token": device["token"], "pack_key": str(device["pack_key_path"]),
        "store": str(device["store"].root), "work": str(device["work"]), "limit": limit, "offers": offers,
        "first_offset_file": str(tmp / f"first-{time.monotonic_ns()}.json"),
    }  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    return proc, Path(args["first_offset_file"])


def _kill_when(proc: subprocess.Popen, condition, timeout_s: float = 120.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    return False


def _part(device: dict) -> Path:
    return device["work"] / f"{PACK}-0.1.0" / "model.bin.part"


def test_pack_distribution_end_to_end(
    server: ServerProcess, device: dict, pack_key, default_store, tmp_path: Path
) -> None:
    store: PackStore = device["store"]
    # IT signs the pack on the signing machine, then uploads a tarball of it with the server CLI.
    signed = tmp_path / "signed"
    signed.mkdir()
    (signed / "pack.json").write_bytes((default_store.root / PACK / "pack.json").read_bytes())
    sign_pack_dir(signed, pack_key[0])
    tarball = tmp_path / f"{PACK}.tar"
    with tarfile.open(tarball, "w") as archive:
        archive.add(default_store.root / PACK, arcname=PACK)
        archive.add(signed / "pack.sig", arcname=f"{PACK}/pack.sig")
    _add_release(server, tarball)

    # The heartbeat reply offers it and says it is wanted.
    reply = _heartbeat(server, device)
    assert reply["wanted_packs"] == [PACK]
    offers = offers_from_reply(reply)
    assert [(o.id, o.version) for o in offers] == [(PACK, "0.1.0")]
    offer_dicts = [{"id": o.id, "version": o.version, "size_bytes": o.size_bytes} for o in offers]
    total = offers[0].size_bytes
    assert total and total > 70_000_000

    # 1. Download interrupted mid-file (SIGKILL at ~10 MB of 75 MB, throttled to 20 MB/s).
    proc, _ = _child(server, device, offer_dicts, 20e6, tmp_path)
    assert _kill_when(proc, lambda: _part(device).exists() and _part(device).stat().st_size > 10_000_000)
    have = _part(device).stat().st_size
    assert 10_000_000 < have < 75_537_502

    # 2. One corrupt byte in what was downloaded: the resumed file fails its signed sha256 and is refused.
    with _part(device).open("r+b") as handle:
        handle.seek(1234)
        byte = handle.read(1)
        handle.seek(1234)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with PackSync(server.url, device["token"], device["pack_key"], store, device["work"],
                  options=PackSyncOptions(bandwidth_limit_bytes_per_s=None)) as sync:  # fmt: skip
        report = sync.sync(offers)
    assert report.failed == {PACK: "checksum"}
    assert not store.is_installed(PACK)
    assert not _part(device).exists()  # never resumed from bad bytes

    # 3. Interrupted again, then resumed with Range in a child that is killed during the install.
    proc, _ = _child(server, device, offer_dicts, 20e6, tmp_path)
    assert _kill_when(proc, lambda: _part(device).exists() and _part(device).stat().st_size > 10_000_000)
    have = _part(device).stat().st_size
    proc, first_offset = _child(server, device, offer_dicts, None, tmp_path)
    installing = _kill_when(
        proc, lambda: any(store.root.glob(f".tmp-{PACK}*")) or any(store.root.glob(".tmp-*"))
    )
    assert installing, f"the child finished before its install could be interrupted: {proc.stdout.read()!r}"
    resumed = json.loads(first_offset.read_text())
    assert resumed["file"] == "model.bin" and resumed["offset"] > have - 1  # continued from the .part
    # The old pack set is intact and no half pack is visible.
    assert [pack.id for pack in store.installed()] == [OLD_PACK]
    verify_pack(store.get(OLD_PACK))

    # 4. The next round installs it atomically from the already downloaded files.
    with PackSync(server.url, device["token"], device["pack_key"], store, device["work"]) as sync:
        report = sync.sync(offers)
    assert report.installed == [PACK] and report.failed == {}
    assert report.downloaded_bytes < total  # nothing fetched twice
    verify_pack(store.get(PACK))
    assert not list(store.root.glob(".tmp-*"))

    # 5. The next heartbeat reports the new set; IT sees it per device.
    reply = _heartbeat(server, device)
    assert reply["wanted_packs"] == []
    with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as admin:
        status = admin.get("/api/v1/admin/packs").json()
    mine = next(d for d in status["devices"] if d["name"] == "counter-1")
    assert mine["installed"] == sorted([OLD_PACK, PACK]) and mine["missing"] == []
    assert [r["pack_id"] for r in status["releases"]] == [PACK]


def test_pack_files_need_a_device_token_and_support_range(
    server: ServerProcess, device: dict, pack_key, default_store, tmp_path: Path
) -> None:
    _add_release(server, _signed(default_store.root / PACK, pack_key[0], tmp_path))
    url = f"{server.url}/api/v1/packs/{PACK}/0.1.0/files/config.json"
    assert httpx.get(url).status_code == 401
    headers = {"Authorization": f"Bearer {device['token']}", "Range": "bytes=10-19"}
    response = httpx.get(url, headers=headers)
    assert response.status_code == 206 and len(response.content) == 10
    assert httpx.get(f"{server.url}/api/v1/packs/{PACK}/0.1.0/files/../server.db",
                     headers={"Authorization": f"Bearer {device['token']}"}).status_code == 404  # fmt: skip


def test_heartbeat_reply_starts_a_background_update(
    server: ServerProcess, device: dict, pack_key, default_store, tmp_path: Path
) -> None:
    """A newer release offered in a heartbeat reply is fetched in the background and replaces the old one."""
    from edge.sync.packs import BackgroundPackSync

    store: PackStore = device["store"]
    _add_release(server, _signed(default_store.root / PACK, pack_key[0], tmp_path))  # 0.1.0, on the device
    install_pack(str(default_store.root / PACK), store)
    newer = tmp_path / PACK
    newer.mkdir()
    for item in (default_store.root / PACK).iterdir():
        (newer / item.name).symlink_to(item)
    manifest = json.loads((default_store.root / PACK / "pack.json").read_text())
    manifest["version"] = "0.1.1"
    (newer / "pack.json").unlink()
    (newer / "pack.json").write_text(json.dumps(manifest))
    sign_pack_dir(newer, pack_key[0])
    _add_release(server, newer)

    sync = PackSync(server.url, device["token"], device["pack_key"], store, device["work"],
                    options=PackSyncOptions(bandwidth_limit_bytes_per_s=None))  # fmt: skip
    background = BackgroundPackSync(sync)
    try:
        reply = _heartbeat(server, device)
        assert [(o["id"], o["version"]) for o in reply["pack_offers"]] == [(PACK, "0.1.1")]
        background.on_heartbeat_reply(reply)  # returns at once; a worker thread does the rest
        deadline = time.monotonic() + 120
        while background.last_report is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sync.close()
    assert background.last_report is not None and background.last_report.installed == [PACK]
    assert store.get(PACK).spec.version == "0.1.1"
    verify_pack(store.get(PACK))
    assert sorted(background.pack_ids()) == sorted([OLD_PACK, PACK])
