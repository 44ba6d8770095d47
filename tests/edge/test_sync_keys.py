"""Device trust in the central server: one key per purpose, https, expiring statements, no tokens in argv."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.fleet import ServerProcess
from edge.cli import app as edge_app
from edge.errors import SyncError
from edge.sync.client import SyncClient
from edge.sync.enrollment import client_from_home, enroll
from edge.sync.outbox import Outbox
from edge.sync.server_url import check_server_url
from glossary.schema import Glossary
from glossary.signing import (
    generate_private_key,
    load_private_key,
    public_key_pem,
    sign_envelope,
)
from tests.support.central import device_token, one_term_server  # noqa: F401  (the "server" fixture)

FAST = {"MADOGUCHI_SERVER_PASSWORD_TIME_COST": "1", "MADOGUCHI_SERVER_PASSWORD_MEMORY_KIB": "8192"}


def _token(server: ServerProcess, device: str) -> str:
    return device_token(server, "keys-site", device)


def _pub(path: Path) -> Path:
    path.write_bytes(public_key_pem(generate_private_key()))
    return path


def test_a_token_on_the_command_line_is_refused(server: ServerProcess, tmp_path: Path) -> None:
    """`--token VALUE` would show in ps and the shell history: refused, nothing stored; the environment
    variable (or --token-file) works."""
    runner = CliRunner()
    env = {"MADOGUCHI_HOME": str(tmp_path / "home")}
    token = _token(server, "argv")
    base = ["enroll", "--server", server.url, "--glossary-key", str(server.public_key_path)]
    refused = runner.invoke(edge_app, [*base, "--token", token], env=env)
    assert refused.exit_code == 1
    assert "visible in `ps`" in str(refused.exception) and "--token-file" in str(refused.exception)
    assert not (tmp_path / "home" / "device.token").exists()
    taken = runner.invoke(edge_app, base, env={**env, "MADOGUCHI_TOKEN": token})
    assert taken.exit_code == 0, taken.output
    assert (tmp_path / "home" / "device.token").read_text().strip() == token
    from deploy.bundle.cli import app as bundle_app

    bundle = runner.invoke(bundle_app, ["install", str(tmp_path), "--server", server.url, "--token", token])
    assert bundle.exit_code != 0 and "visible in `ps`" in str(bundle.exception)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://madoguchi.city.example:8470", False),
        ("http://10.0.0.5", False),
        ("ftp://madoguchi.city.example", False),
        ("https://madoguchi.city.example", True),
        ("http://127.0.0.1:8470", True),
        ("http://localhost:8470/", True),
        ("http://[::1]:8470", True),
    ],
)
def test_plain_http_is_refused_except_to_this_machine(url: str, ok: bool, tmp_path: Path) -> None:
    if ok:
        assert check_server_url(url) == url.rstrip("/")
        return
    with pytest.raises(SyncError, match="https"):
        enroll(url, "token", _pub(tmp_path / "g.pub"), tmp_path / "home")
    with pytest.raises(SyncError, match="https"):
        SyncClient(url, "t", generate_private_key().public_key(), tmp_path / "g", Outbox(tmp_path / "o.db"))
    assert not (tmp_path / "home").exists()


def test_each_purpose_has_its_own_pinned_key(server: ServerProcess, tmp_path: Path) -> None:
    """The pack key is stored beside the glossary key; one key for both is refused; a glossary signed with
    the pack key (or any key but the glossary key) is refused and the last good version stays."""
    pack_key = _pub(tmp_path / "pack-signing.pub")
    with pytest.raises(SyncError, match="pack key must be a separate key"):
        enroll(server.url, _token(server, "same"), server.public_key_path, tmp_path / "same",
               pack_key_file=server.public_key_path)  # fmt: skip
    home = tmp_path / "device"
    result = enroll(server.url, _token(server, "keys"), server.public_key_path, home, pack_key_file=pack_key)
    assert result.status == "updated"
    assert (home / "pack.pub").read_bytes() == pack_key.read_bytes()
    assert (home / "server.pub").read_bytes() == server.public_key_path.read_bytes()

    pack_private = generate_private_key()
    envelope = sign_envelope(
        pack_private, json.loads(Glossary.from_items([], []).canonical_json()), version="v99-pack",
        number=99, published_at="2026-12-07T00:00:00Z",
    )  # fmt: skip
    client = client_from_home(home)
    try:
        refused = client._accept(json.dumps(envelope).encode(), None)
    finally:
        client.outbox.close()
    assert refused.status == "refused" and refused.error_code == "glossary_signature"
    assert client.installed is not None and client.installed.statement.number == result.number


def test_expired_statements_are_refused_and_an_expired_copy_is_kept_with_a_warning(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The server signs each served statement with an expiry. A device refuses a statement that already
    expired (a server replaying stale signatures); its own copy, once expired, stays in use with the
    `glossary_expired` code in the heartbeat, until a renewed statement for it arrives."""
    home = tmp_path / "device"
    token = _token(server, "expiry")
    enroll(server.url, token, server.public_key_path, home)
    client = client_from_home(home)
    installed = client.installed
    assert installed is not None and installed.statement.expires_at is not None
    expires = dt.datetime.fromisoformat(installed.statement.expires_at.replace("Z", "+00:00"))
    assert dt.timedelta(days=28) < expires - dt.datetime.now(dt.UTC) < dt.timedelta(days=31)

    key = load_private_key((server.home / "glossary-signing.key").read_bytes())
    body = json.loads((home / "glossary" / "current.json").read_bytes())
    stale = sign_envelope(
        key, body["glossary"], version=body["version"], number=body["number"] + 1,
        published_at=body["published_at"], expires_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    refused = client._accept(json.dumps(stale).encode(), None)
    assert refused.status == "refused" and refused.error_code == "glossary_expired"
    assert client.installed is installed

    # The device's own copy expires (cut off from the server too long): warned about, still used.
    old = sign_envelope(
        key, body["glossary"], version=body["version"], number=body["number"],
        published_at=body["published_at"], expires_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    client.store.install(json.dumps(old).encode())
    client.outbox.close()
    client = client_from_home(home)
    assert client.installed is not None and client.installed.statement.expires_at == "2026-01-01T00:00:00Z"
    assert client.check_expiry() == "glossary_expired"
    (home / "glossary" / "etag").unlink(missing_ok=True)

    async def once():  # type: ignore[no-untyped-def]
        async with client:
            return await client.sync_once()

    report = asyncio.run(once())
    client.outbox.close()
    # The server renews the statement of the same version: stored, no warning any more.
    assert report.pull.status == "not_modified" and "glossary_expired" not in report.error_codes
    assert client.installed.statement.expires_at == installed.statement.expires_at
    assert client.check_expiry() is None
