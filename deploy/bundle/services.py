"""The systemd units of an installed release: render, write, create the service user, (re)start."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from deploy.bundle.kiosk import install_policy
from deploy.bundle.options import SERVICE_USER, InstallOptions
from madoguchi.files import fsync_dir

_LOGGER = logging.getLogger(__name__)


def render_unit(template: str, values: dict[str, str]) -> str:
    """Fill ``@NAME@`` placeholders of a unit template."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    return template


def unit_values(prefix: Path, options: InstallOptions, user: str) -> dict[str, str]:
    try:
        kiosk_uid = str(pwd.getpwnam(options.kiosk_user).pw_uid)
    except KeyError:
        kiosk_uid = "1000"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    return {
        "PREFIX": str(prefix), "USER": user, "GROUP": user, "PORT": str(options.port),
        "KIOSK_USER": options.kiosk_user, "KIOSK_UID": kiosk_uid, "CHROMIUM": chromium,
    }  # fmt: skip


def install_services(prefix: Path, options: InstallOptions) -> tuple[list[str], list[str]]:
    """Write the units, create the service user, enable and (re)start them. Returns (units, notices)."""
    notices: list[str] = []
    user = options.service_user or _service_user(prefix, notices)
    values = unit_values(prefix, options, user)
    role = options.role or "edge"
    names = ["madoguchi-edge.service"] if role == "edge" else ["madoguchi-server.service"]
    if options.kiosk and role == "edge":
        names.append("madoguchi-kiosk.service")
    templates = prefix / "current" / "deploy"
    options.systemd_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = templates / name
        write_atomic(options.systemd_dir / name, render_unit(source.read_text(encoding="utf-8"), values))
    if "madoguchi-kiosk.service" in names:
        install_policy(templates, options.port, options.chromium_policy_dir)
    if not systemctl("daemon-reload"):
        notices.append("systemd is not running here: units written but not started")
        return names, notices
    systemctl("enable", *names)
    systemctl("restart", *names)
    return names, notices


def _service_user(prefix: Path, notices: list[str]) -> str:
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            notices.append("useradd not found: the services run as root")
            return "root"
        subprocess.run(
            [useradd, "--system", "--home-dir", str(prefix / "data"), "--no-create-home",
             "--shell", "/usr/sbin/nologin", "--groups", "audio", SERVICE_USER],
            check=False, capture_output=True,
        )  # fmt: skip
    for sub in ("data", "packs"):
        subprocess.run(
            ["chown", "-R", f"{SERVICE_USER}:", str(prefix / sub)], check=False, capture_output=True
        )
    return SERVICE_USER


def systemctl(*args: str) -> bool:
    systemctl = shutil.which("systemctl")
    if systemctl is None or not Path("/run/systemd/system").is_dir():
        return False
    completed = subprocess.run([systemctl, *args], capture_output=True, text=True)
    if completed.returncode != 0:
        _LOGGER.warning("systemctl %s: %s", " ".join(args), completed.stderr.strip()[:200])
    return completed.returncode == 0


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file, fsynced, then renamed (a power cut leaves either)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
