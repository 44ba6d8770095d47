"""The systemd unit templates: rendered as the installer writes them, checked by `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.bundle.install import InstallOptions, install_services, render_unit, unit_values
from tests.support.deploy import REPO

UNITS = ("madoguchi-edge.service", "madoguchi-server.service", "madoguchi-kiosk.service")


def _render(prefix: Path, out: Path) -> list[Path]:
    values = unit_values(prefix, InstallOptions(bundle_dir=prefix, prefix=prefix), "root")
    values["KIOSK_USER"] = "root"
    paths = []
    for name in UNITS:
        path = out / name
        path.write_text(render_unit((REPO / "deploy" / name).read_text(), values))
        paths.append(path)
    return paths


def _fake_release(prefix: Path) -> None:
    """`systemd-analyze verify` checks that ExecStart exists and is executable."""
    binary = prefix / "releases" / "r1" / "venv" / "bin"
    binary.mkdir(parents=True)
    for name in ("madoguchi", "python"):
        (binary / name).write_text("#!/bin/sh\nexit 0\n")
        (binary / name).chmod(0o755)
    (prefix / "current").symlink_to("releases/r1")
    for sub in ("data", "packs", "etc"):
        (prefix / sub).mkdir()
    (prefix / "etc" / "madoguchi.env").write_text("MADOGUCHI_PORT=8765\n")


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing (apt-get install systemd)")
    prefix = tmp_path / "opt"
    _fake_release(prefix)
    paths = _render(prefix, tmp_path)
    completed = subprocess.run(
        ["systemd-analyze", "verify", *map(str, paths)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    assert "madoguchi" not in completed.stderr, completed.stderr


def test_edge_unit_restarts_waits_for_network_and_logs_to_journald(tmp_path: Path) -> None:
    prefix = tmp_path / "opt"
    _fake_release(prefix)
    edge = _render(prefix, tmp_path)[0]
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(edge)
    assert parser["Service"]["Restart"] == "on-failure"
    assert "network-online.target" in parser["Unit"]["After"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert parser["Service"]["StandardOutput"] == "journal"
    assert parser["Service"]["ExecStart"] == f"{prefix}/current/venv/bin/madoguchi edge run"
    assert parser["Service"]["EnvironmentFile"] == f"{prefix}/etc/madoguchi.env"
    assert "ORT_DISABLE_TELEMETRY=1" in parser["Service"]["Environment"]
    assert "@" not in edge.read_text().replace("multi-user", "")


def test_install_services_writes_units_without_systemd(tmp_path: Path) -> None:
    """In a container without a running systemd, the units are written and the installer says so."""
    prefix = tmp_path / "opt"
    _fake_release(prefix)
    shutil.copytree(REPO / "deploy", prefix / "releases" / "r1" / "deploy")
    options = InstallOptions(
        bundle_dir=prefix,
        prefix=prefix,
        kiosk=True,
        systemd_dir=tmp_path / "systemd",
        service_user="root",
        chromium_policy_dir=tmp_path / "policies",
    )
    names, notices = install_services(prefix, options)
    assert names == ["madoguchi-edge.service", "madoguchi-kiosk.service"]
    kiosk = (tmp_path / "systemd" / "madoguchi-kiosk.service").read_text()
    assert "--kiosk" in kiosk and "http://127.0.0.1:8765/" in kiosk
    if not Path("/run/systemd/system").is_dir():
        assert notices and "not running" in notices[0]
