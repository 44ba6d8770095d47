"""An x86_64 bundle installs and translates inside a network namespace that has only loopback."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.deploy import offline_command, outside_connects, run

pytestmark = pytest.mark.slow  # end to end through real processes

_NETWORK_ERRORS = ("ConnectError", "Network is unreachable", "Temporary failure in name resolution",
                   "Connection refused", "getaddrinfo failed")  # fmt: skip


def test_offline_install_lays_out_the_prefix(offline_install, x86_bundle) -> None:
    """install.sh verifies, builds the venv from the wheelhouse, installs the packs and switches current."""
    prefix, completed, trace = offline_install
    assert completed.returncode == 0, completed.stderr[-3000:]
    manifest = json.loads((x86_bundle / "bundle.json").read_text())
    current = prefix / "current"
    assert current.is_symlink()
    assert os.readlink(current) == f"releases/{manifest['release_id']}"
    assert (current / "venv" / "bin" / "madoguchi").exists()
    assert (current / ".complete").exists()
    for pack in ("whisper-tiny", "whisper-base"):
        assert (prefix / "packs" / pack / "pack.json").exists()
    env = (prefix / "etc" / "madoguchi.env").read_text()
    assert f"MADOGUCHI_PACKS={prefix / 'packs'}" in env
    assert "ORT_DISABLE_TELEMETRY=1" in env
    assert (prefix / "etc" / "bundle-signing.pub").exists()
    assert outside_connects(trace) == []


def test_installed_release_translates_offline(offline_install, eval_dir, tmp_path) -> None:
    """`madoguchi translate` from the installed venv works with no network and tries none."""
    prefix, completed, _ = offline_install
    assert completed.returncode == 0, completed.stderr[-3000:]
    clip = eval_dir / "speech" / "test_ja_2.wav"
    trace = tmp_path / "translate.strace"
    script = (
        f"ip link set lo up; set -a; . {prefix}/etc/madoguchi.env; set +a; "
        f"exec {prefix}/current/venv/bin/madoguchi translate {clip} --target en"
    )
    command = offline_command(script, trace)
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "PYTHONPATH")}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    english = [line for line in result.stdout.splitlines() if line.startswith("[en]")]
    assert english and len(english[0]) > len("[en] ") + 10, result.stdout
    assert any(line.startswith("[ja]") for line in result.stdout.splitlines())
    assert not [e for e in _NETWORK_ERRORS if e in result.stderr], result.stderr[-2000:]
    assert outside_connects(trace if trace.exists() else None) == []


def test_install_with_a_token_enrolls_the_device(offline_install, x86_bundle, signing_key, tmp_path) -> None:
    """Installing the same bundle again with the installed madoguchi and --server --token-file
    --glossary-key enrolls the device (server on loopback) and changes nothing else: same release, no
    `previous`. The device pins both keys: the server's glossary key and the bundle key as the pack key.
    """
    from bench.fleet import ServerProcess

    prefix, completed, _ = offline_install
    assert completed.returncode == 0
    before = os.readlink(prefix / "current")
    home = tmp_path / "server"
    home.mkdir()
    server = ServerProcess(home=home, database_url=f"sqlite:///{home / 'server.db'}")
    server.start()
    try:
        import httpx

        with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as admin:
            response = admin.post("/api/v1/admin/devices", json={"site": "branch-2", "device": "counter-9"})
            response.raise_for_status()
            token = response.json()["token"]
        result = run(
            [str(prefix / "current" / "venv" / "bin" / "madoguchi"), "bundle", "install", str(x86_bundle),
             "--prefix", str(prefix), "--no-services", "--server", server.url, "--token-file", "-",
             "--glossary-key", str(server.public_key_path)],
            input=token + "\n",
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "enrolled with" in result.stdout
    assert os.readlink(prefix / "current") == before
    assert not (prefix / "previous").exists()
    data = prefix / "data"
    assert (data / "device.token").read_text().strip() == token
    assert (data / "device.token").stat().st_mode & 0o777 == 0o600
    assert (data / "server.pub").read_bytes() == server.public_key_path.read_bytes()
    assert (data / "pack.pub").read_bytes() == signing_key[1].read_bytes()
    assert f"MADOGUCHI_SERVER_URL={server.url}" in (prefix / "etc" / "madoguchi.env").read_text()
