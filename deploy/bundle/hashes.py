"""Hash-pinned requirements of a bundle's wheelhouse, so installs run ``pip install --require-hashes``.

At build time pip resolves ``madoguchi[<role>]==<version>`` against the wheelhouse alone, for the target
platform (``pip install --dry-run --report``), and the closure is written as
``wheelhouse/requirements-<role>.txt``: one ``name==version --hash=sha256:…`` line per wheel, hashed from the
file in the wheelhouse. Installing with ``--require-hashes -r`` that file makes pip refuse any wheel that is
not exactly the one recorded, and any dependency that is not recorded at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from deploy.bundle.manifest import BundleError, file_sha256

ROLES: Final = ("edge", "server")


def requirements_file(wheelhouse: Path, role: str) -> Path:
    """``wheelhouse/requirements-<role>.txt``."""
    return wheelhouse / f"requirements-{role}.txt"


def pip_install_args(wheelhouse: Path, role: str) -> list[str]:
    """The arguments after ``pip install`` that install a role offline, hash-checked.

    Raises:
        BundleError: the bundle has no hash-pinned requirements (built by an older madoguchi).
    """
    requirements = requirements_file(wheelhouse, role)
    if not requirements.is_file():
        raise BundleError(
            f"{requirements.name} is missing: the bundle predates hash-checked installs; build it again"
        )
    return ["--no-index", "--find-links", str(wheelhouse), "--require-hashes", "-r", str(requirements)]


def write_hashed_requirements(wheelhouse: Path, version: str, tags: list[str], python: str) -> list[Path]:
    """Resolve every role against the wheelhouse for ``tags`` and write its hash-pinned requirements."""
    written = []
    for role in ROLES:
        lines = [_line(wheelhouse, item, role) for item in _resolve(wheelhouse, version, role, tags, python)]
        path = requirements_file(wheelhouse, role)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(sorted(lines, key=str.lower)), encoding="utf-8")
        os.replace(tmp, path)  # a new file: never writes through a hard link into another bundle
        written.append(path)
    return written


def _resolve(wheelhouse: Path, version: str, role: str, tags: list[str], python: str) -> list[dict]:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="madoguchi-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                   "--report", str(report), "--no-index", "--find-links", str(wheelhouse),
                   "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
                   "--abi", f"cp{python.replace('.', '')}", "--abi", "abi3", "--abi", "none",
                   "--target", str(Path(tmp) / "target"), f"madoguchi[{role}]=={version}"]  # fmt: skip
        for tag in tags:
            command += ["--platform", tag]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise BundleError(
                f"the wheelhouse cannot satisfy madoguchi[{role}]=={version}: "
                f"{completed.stderr.strip()[-300:]}"
            )
        items: list[dict] = json.loads(report.read_text(encoding="utf-8"))["install"]  # type: ignore[type-arg]
        return items


def _line(wheelhouse: Path, item: dict, role: str) -> str:  # type: ignore[type-arg]
    name = Path(unquote(urlsplit(item["download_info"]["url"]).path)).name
    wheel = wheelhouse / name
    if not wheel.is_file():
        raise BundleError(f"pip resolved {name}, which is not in the wheelhouse")
    meta = item["metadata"]
    extra = f"[{role}]" if meta["name"].lower() == "madoguchi" else ""
    return f"{meta['name']}{extra}=={meta['version']} --hash=sha256:{file_sha256(wheel)}\n"
