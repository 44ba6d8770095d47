"""Keys, the device token, the usage outbox and the glossary store are 0600 in 0700 directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bench.fleet import ServerProcess
from edge.counter.tls import ensure_tls
from edge.sync.enrollment import enroll
from edge.sync.outbox import Outbox, TurnUsage
from tests.support.central import device_token, publish_glossary
from tests.support.glossaries import small_glossary


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_enrolled_device_files_are_private(sync_server: ServerProcess, tmp_path: Path) -> None:
    """After enrollment and a glossary pull (umask 022): token, outbox and glossary are owner-only."""
    publish_glossary(sync_server, small_glossary("private"))
    token = device_token(sync_server, "perm", "c1")
    old = os.umask(0o022)
    try:
        home = tmp_path / "home"
        enroll(sync_server.url, token, sync_server.public_key_path, home)
        outbox = Outbox(home / "outbox.db")
        outbox.add_turn(TurnUsage(source="ja", target="en"))
        outbox.close()
    finally:
        os.umask(old)
    assert _mode(home) == 0o700 and _mode(home / "glossary") == 0o700
    private = [home / "device.token", home / "outbox.db", *(home / "glossary").iterdir()]
    private += [p for p in home.glob("outbox.db-*")]
    assert len(private) >= 3
    for path in private:
        assert _mode(path) == 0o600, path


def test_existing_world_readable_files_are_tightened(tmp_path: Path) -> None:
    """A device set up by an older release (0755 directory, 0644 outbox and keys) is fixed on open."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    db = data / "outbox.db"
    Outbox(db).close()
    db.chmod(0o644)
    data.chmod(0o755)
    Outbox(db).close()
    assert _mode(db) == 0o600 and _mode(data) == 0o700
    tls = tmp_path / "tls"
    ensure_tls(tls, ("localhost", "127.0.0.1"))
    tls.chmod(0o755)
    for key in ("ca.key", "server.key"):
        (tls / key).chmod(0o644)
    ensure_tls(tls, ("localhost", "127.0.0.1"))
    assert _mode(tls) == 0o700 and _mode(tls / "ca.key") == 0o600 and _mode(tls / "server.key") == 0o600
