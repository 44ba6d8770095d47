"""`madoguchi edge enroll` / `edge sync` against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.fleet import ServerProcess
from edge.cli import app as edge_app
from edge.errors import SyncError
from edge.sync.enrollment import client_from_home, enroll
from edge.sync.outbox import TurnUsage
from glossary.signing import generate_private_key, public_key_pem
from tests.support.central import device_token, one_term_server  # noqa: F401  (the "server" fixture)


def _token(server: ServerProcess, device: str) -> str:
    return device_token(server, "enroll-site", device)


def test_enroll_stores_material_and_a_client_syncs(server: ServerProcess, tmp_path: Path) -> None:
    home = tmp_path / "device"
    token = _token(server, "d1")
    result = enroll(server.url, token, server.public_key_path, home)
    assert result.status == "updated" and result.number == 1
    assert (home / "device.token").read_text().strip() == token
    assert oct((home / "device.token").stat().st_mode & 0o777) == "0o600"
    assert (home / "server.pub").read_bytes() == server.public_key_path.read_bytes()
    client = client_from_home(home)
    assert client.installed is not None and client.installed.statement.number == 1
    client.outbox.add_turn(TurnUsage(source="ja", target="pt"))

    async def once():  # type: ignore[no-untyped-def]
        async with client:
            return await client.sync_once(force_usage=True)

    report = asyncio.run(once())
    client.outbox.close()
    assert report.pull.status == "not_modified" and report.turns_sent == 1 and report.heartbeat_ok


def test_enroll_refuses_wrong_key_bad_token_and_unreachable_server(
    server: ServerProcess, tmp_path: Path
) -> None:
    other_key = tmp_path / "other.pub"
    other_key.write_bytes(public_key_pem(generate_private_key()))
    token = _token(server, "d2")
    with pytest.raises(SyncError, match="does not verify"):
        enroll(server.url, token, other_key, tmp_path / "a")
    with pytest.raises(SyncError, match="refused the token"):
        enroll(server.url, "not-a-token", server.public_key_path, tmp_path / "b")
    with pytest.raises(SyncError, match="cannot reach"):
        enroll("http://127.0.0.1:9", token, server.public_key_path, tmp_path / "c", timeout_s=2)
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("hello")
    with pytest.raises(SyncError, match=r"garbage\.pub"):
        enroll(server.url, token, garbage, tmp_path / "d")
    assert not (tmp_path / "a" / "device.token").exists()
    with pytest.raises(SyncError, match="not enrolled"):
        client_from_home(tmp_path / "a")


def test_edge_cli_enroll_and_sync(server: ServerProcess, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"MADOGUCHI_HOME": str(tmp_path / "cli-home")}
    token = _token(server, "d3")
    pack_key = tmp_path / "pack-signing.pub"
    pack_key.write_bytes(public_key_pem(generate_private_key()))
    args = ["enroll", "--server", server.url, "--token-file", "-",
            "--glossary-key", str(server.public_key_path), "--pack-key", str(pack_key)]  # fmt: skip
    enrolled = runner.invoke(edge_app, args, env=env, input=token + "\n")
    assert enrolled.exit_code == 0, enrolled.output
    assert (tmp_path / "cli-home" / "pack.pub").read_bytes() == pack_key.read_bytes()
    assert "glossary version v1-" in enrolled.stdout
    synced = runner.invoke(edge_app, ["sync"], env=env)
    assert synced.exit_code == 0, synced.output
    assert "glossary not_modified" in synced.stdout and "heartbeat ok" in synced.stdout
