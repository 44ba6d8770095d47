"""The bundle's wheelhouse installs hash-checked: each role's wheels are pinned by sha256 at build time."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.bundle.build import PYTHON_VERSION, platform_tags
from deploy.bundle.hashes import ROLES, pip_install_args, requirements_file

pytestmark = pytest.mark.slow  # end to end through real processes

_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9_.\-]+)(\[\w+\])?==(?P<version>\S+) --hash=sha256:(?P<hash>[0-9a-f]{64})$"
)


def _dry_run(bundle: Path, role: str, requirements: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """What the installer runs, as a dry run for the bundle's platform (nothing is installed here)."""
    args = pip_install_args(bundle / "wheelhouse", role)
    args[args.index("-r") + 1] = str(requirements)
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
               "--abi", "cp311", "--abi", "abi3", "--abi", "none", "--target", str(tmp / "target"),
               *args]  # fmt: skip
    for tag in platform_tags("x86_64"):
        command += ["--platform", tag]
    return subprocess.run(command, capture_output=True, text=True, env={"PIP_CONFIG_FILE": "/dev/null"})


def test_every_wheel_of_each_role_is_pinned_by_its_sha256(x86_bundle: Path, tmp_path: Path) -> None:
    wheelhouse = x86_bundle / "wheelhouse"
    hashes = {hashlib.sha256(w.read_bytes()).hexdigest(): w.name for w in wheelhouse.glob("*.whl")}
    for role in ROLES:
        lines = requirements_file(wheelhouse, role).read_text().splitlines()
        parsed = [_LINE.match(line) for line in lines]
        assert all(parsed), [line for line, m in zip(lines, parsed, strict=True) if not m]
        assert all(m["hash"] in hashes for m in parsed if m)
        names = {m["name"].lower() for m in parsed if m}
        assert {"madoguchi", "fastapi"} <= names
        assert ("ctranslate2" in names) == (role == "edge") and ("sqlalchemy" in names) == (role == "server")
    assert _dry_run(x86_bundle, "server", requirements_file(wheelhouse, "server"), tmp_path).returncode == 0


def test_a_wheel_that_is_not_the_recorded_one_is_refused_by_pip(x86_bundle: Path, tmp_path: Path) -> None:
    """One recorded hash changed (as if the wheel differed from what was built): pip refuses to install."""
    lines = requirements_file(x86_bundle / "wheelhouse", "server").read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.lower().startswith("sqlalchemy=="))
    lines[index] = lines[index][:-64] + "0" * 64
    altered = tmp_path / "requirements-server.txt"
    altered.write_text("\n".join(lines) + "\n")
    completed = _dry_run(x86_bundle, "server", altered, tmp_path)
    assert completed.returncode != 0
    assert "DO NOT MATCH THE HASHES" in completed.stderr
    # and a dependency left out of the file is refused too (every requirement must be hash-pinned)
    lines = requirements_file(x86_bundle / "wheelhouse", "server").read_text().splitlines()
    shorter = [line for line in lines if not line.lower().startswith("sqlalchemy==")]
    altered.write_text("\n".join(shorter) + "\n")
    missing = _dry_run(x86_bundle, "server", altered, tmp_path)
    assert missing.returncode != 0 and "hash" in missing.stderr.lower()
