"""``madoguchi server …`` commands on a real SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bench.fleet import REPO_ROOT, free_port
from server import crud
from server.cli import app
from server.core.db import make_engine, make_session_factory
from server.core.security import verify_password
from tests.support.central import make_glossary
from tests.support.servers import FAST_ARGON2


def _env(home: Path) -> dict[str, str]:
    return {"MADOGUCHI_SERVER_HOME": str(home), **FAST_ARGON2}


def test_admin_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = _env(home)

    migrated = runner.invoke(app, ["migrate", "--db", db], env=env)
    assert migrated.exit_code == 0 and "up to date" in migrated.stdout
    keygen = runner.invoke(app, ["keygen"], env=env)
    assert keygen.exit_code == 0, keygen.output
    assert keygen.stdout.strip() == str(home / "glossary-signing.pub")
    again = runner.invoke(app, ["keygen"], env=env)
    assert again.exit_code != 0 and "already exists" in str(again.exception)

    enrolled = runner.invoke(
        app, ["enroll", "--site", "本庁舎", "--device", "counter-1", "--db", db], env=env
    )
    assert enrolled.exit_code == 0, enrolled.output
    token = enrolled.stdout.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    factory = make_session_factory(make_engine(db))
    with factory() as session:
        device = crud.device_by_token(session=session, token=token)
        assert device is not None and device.name == "counter-1"
        assert token not in device.token_hash
    dup = runner.invoke(app, ["enroll", "--site", "本庁舎", "--device", "counter-1", "--db", db], env=env)
    assert dup.exit_code != 0 and "already enrolled" in str(dup.exception)

    listed = runner.invoke(app, ["devices", "--db", db], env=env)
    assert "本庁舎/counter-1" in listed.stdout and "never" in listed.stdout and token not in listed.stdout
    assert runner.invoke(app, ["revoke", "本庁舎/counter-1", "--db", db], env=env).exit_code == 0
    with factory() as session:
        assert crud.device_by_token(session=session, token=token) is None
    assert "REVOKED" in runner.invoke(app, ["devices", "--db", db], env=env).stdout
    missing = runner.invoke(app, ["revoke", "nobody", "--db", db], env=env)
    assert missing.exit_code != 0 and "no device" in str(missing.exception)

    added = runner.invoke(
        app,
        ["admin-add", "it-staff", "--db", db],
        env={**env, "MADOGUCHI_SERVER_ADMIN_PASSWORD": "long-enough-pw"},
    )
    assert added.exit_code == 0, added.output
    with factory() as session:
        saved = crud.admin_by_name(session=session, username="it-staff")
        assert saved is not None and verify_password("long-enough-pw", saved.password_hash)

    first = tmp_path / "v1.json"
    first.write_bytes(make_glossary("one").canonical_json())
    published = runner.invoke(app, ["publish", str(first), "--db", db], env=env)
    assert published.exit_code == 0, published.output
    assert "added terms (2)" in published.stdout and "published version 1" in published.stdout
    same = runner.invoke(app, ["publish", str(first), "--db", db], env=env)
    assert "no change" in same.stdout
    second = tmp_path / "v2.json"
    second.write_bytes(make_glossary("two", extra_term=True).canonical_json())
    dry = runner.invoke(app, ["publish", str(second), "--dry-run", "--db", db], env=env)
    assert "added terms (1): waste.sodai_gomi" in dry.stdout and "dry run" in dry.stdout
    assert "published version 2" in runner.invoke(app, ["publish", str(second), "--db", db], env=env).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("term_id,domain\nres.x,res\n", encoding="utf-8")
    refused = runner.invoke(app, ["publish", str(bad), "--db", db], env=env)
    assert refused.exit_code != 0 and "nothing published" in str(refused.exception)
    rolled = runner.invoke(app, ["rollback", "1", "--db", db], env=env)
    assert "published version 3 with the content of version 1" in rolled.stdout
    versions = runner.invoke(app, ["versions", "--db", db], env=env).stdout.splitlines()
    assert [line.split("\t")[0] for line in versions] == ["3", "2", "1"]


def test_server_run_first_start(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "MADOGUCHI_HOME": str(tmp_path / "mh"),
        **FAST_ARGON2,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "server", "run", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None and health["status"] == "ok"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    key = tmp_path / "mh" / "server" / "glossary-signing.key"
    assert f"created signing key {key}" in output
    assert f"public key for devices: {key.with_suffix('.pub')}" in output
    assert (tmp_path / "mh" / "server" / "server.db").exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    if health["glossary_number"] is not None:  # the bundled glossary data is present
        assert "published the bundled glossary as version 1" in output
