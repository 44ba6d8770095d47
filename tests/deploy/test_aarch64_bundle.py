"""An aarch64 (Raspberry Pi 4/5) bundle holds only aarch64 or pure-Python wheels for every pinned dependency.

Building it downloads ~235 MB of wheels the first time (cached under ~/.cache/madoguchi/wheelhouse-aarch64).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from deploy.bundle import platform_tags, verify_bundle
from deploy.bundle.manifest import load_trusted_key
from tests.support.deploy import REPO, madoguchi_command, run

pytestmark = pytest.mark.slow  # end to end through real processes


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def aarch64_bundle(default_store, signing_key, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arm") / "madoguchi-aarch64"
    completed = run(
        [*madoguchi_command(), "bundle", "build", "--arch", "aarch64", "--packs", "whisper-tiny",
         "--store", str(default_store.root), "--out", str(out), "--signing-key", str(signing_key[0])],
        timeout=3600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return out


def test_every_wheel_is_aarch64_or_pure_python(aarch64_bundle: Path) -> None:
    wheels = sorted((aarch64_bundle / "wheelhouse").glob("*.whl"))
    assert len(wheels) > 30
    for wheel in wheels:
        platform = wheel.name.removesuffix(".whl").split("-")[-1]
        assert platform == "any" or all(tag.endswith("_aarch64") for tag in platform.split(".")), wheel.name
        assert "x86_64" not in wheel.name


def test_every_pinned_dependency_is_in_the_wheelhouse(aarch64_bundle: Path) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    for extra in ("edge", "server"):
        pins += project["optional-dependencies"][extra]
    present = set()
    for wheel in (aarch64_bundle / "wheelhouse").glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        present.add((_canonical(name), version))
    for pin in pins:
        name, _, version = re.sub(r"\[.*\]", "", pin).partition("==")
        assert (_canonical(name), version) in present, f"{pin} is missing from the aarch64 wheelhouse"


def test_wheelhouse_resolves_offline_for_aarch64(aarch64_bundle: Path, tmp_path: Path) -> None:
    """pip can resolve madoguchi[edge,server] for aarch64 from the wheelhouse alone."""
    platforms = [arg for tag in platform_tags("aarch64") for arg in ("--platform", tag)]
    for extra in ("edge,server",):
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-index",
             "--find-links", str(aarch64_bundle / "wheelhouse"), "--only-binary=:all:", "--python-version",
             "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none",
             "--target", str(tmp_path / "target"), *platforms, f"madoguchi[{extra}]==0.1.0"],
            capture_output=True, text=True, env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-2000:]
        assert "Would install" in completed.stdout


def test_manifest_signature_and_contents(aarch64_bundle: Path, signing_key) -> None:
    manifest = verify_bundle(aarch64_bundle, load_trusted_key(signing_key[1]))
    assert manifest.arch == "aarch64"
    assert manifest.packs == ("whisper-tiny",)
    paths = {item.path for item in manifest.files}
    assert "install.sh" in paths and "packs/whisper-tiny/pack.json" in paths
    assert "glossary/glossary.json" in paths
    assert 'ARCH="aarch64"' in (aarch64_bundle / "install.sh").read_text()
