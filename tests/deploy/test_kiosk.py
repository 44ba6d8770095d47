"""The kiosk browser is locked to the counter: its unit's chromium flags and its managed policy."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from deploy.bundle.install import InstallOptions, install_services, render_unit, unit_values
from deploy.bundle.kiosk import POLICY_FILE, render_policy
from tests.support.deploy import REPO


def _exec_start(port: int = 8765) -> list[str]:
    values = unit_values(Path("/opt/madoguchi"), InstallOptions(bundle_dir=Path("."), port=port), "root")
    unit = render_unit((REPO / "deploy" / "madoguchi-kiosk.service").read_text(), values)
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_kiosk_flags_are_locked_down() -> None:
    """Incognito kiosk on the counter's loopback URL; no debugging port, web security on, no blanket
    permission grant (the policy grants the microphone to the counter only)."""
    args = _exec_start(9123)
    assert "--kiosk" in args and "--incognito" in args
    assert args[-1] == "http://127.0.0.1:9123/"
    for forbidden in (
        "--remote-debugging-port",
        "--remote-debugging-pipe",
        "--disable-web-security",
        "--use-fake-ui-for-media-stream",
        "--allow-running-insecure-content",
        "--ignore-certificate-errors",
        "--no-sandbox",
        "--user-data-dir",
    ):
        assert not any(arg.startswith(forbidden) for arg in args), forbidden


def test_policy_allows_only_the_counter() -> None:
    """URLBlocklist blocks everything, URLAllowlist and the microphone name the counter's origins only."""
    policy = render_policy((REPO / "deploy" / "madoguchi-kiosk-policy.json").read_text(), 9123)
    assert "*" in policy["URLBlocklist"] and "chrome://*" in policy["URLBlocklist"]
    counter = {"http://127.0.0.1:9123", "https://127.0.0.1:9123", "https://localhost:9123"}
    assert set(policy["URLAllowlist"]) == counter
    assert set(policy["AudioCaptureAllowedUrls"]) == counter
    assert policy["DeveloperToolsAvailability"] == 2  # disallowed
    assert policy["IncognitoModeAvailability"] == 2  # forced
    assert policy["RemoteDebuggingAllowed"] is False
    assert policy["VideoCaptureAllowed"] is False and policy["DownloadRestrictions"] == 3


def test_installing_the_kiosk_installs_its_policy(tmp_path: Path) -> None:
    """`bundle install --kiosk` writes the unit and the policy (0644) where chromium reads it."""
    prefix = tmp_path / "opt"
    (prefix / "releases" / "r1").mkdir(parents=True)
    shutil.copytree(REPO / "deploy", prefix / "releases" / "r1" / "deploy")
    (prefix / "current").symlink_to("releases/r1")
    options = InstallOptions(
        bundle_dir=prefix,
        prefix=prefix,
        kiosk=True,
        port=8800,
        systemd_dir=tmp_path / "systemd",
        service_user="root",
        chromium_policy_dir=tmp_path / "policies" / "managed",
    )
    names, _ = install_services(prefix, options)
    assert "madoguchi-kiosk.service" in names
    written = tmp_path / "policies" / "managed" / POLICY_FILE
    policy = json.loads(written.read_text())
    assert policy["URLAllowlist"][0] == "http://127.0.0.1:8800"
    assert written.stat().st_mode & 0o777 == 0o644
    without = InstallOptions(
        bundle_dir=prefix,
        prefix=prefix,
        systemd_dir=tmp_path / "systemd2",
        service_user="root",
        chromium_policy_dir=tmp_path / "none",
    )
    install_services(prefix, without)
    assert not (tmp_path / "none").exists()  # no kiosk, no policy
