"""Building an offline bundle: wheelhouse, model packs, glossary, installer and a signed manifest.

Layout of a bundle directory::

    install.sh            the thin installer (a template from deploy/install.sh)
    bundle.json           manifest: every file with sha256 and size (signed)
    bundle.sig            Ed25519 signature of bundle.json by the pack/bundle key (kept offline)
    SHA256SUMS            the same checksums for ``sha256sum -c``
    signing.pub           the public half of the key (a first install still needs IT's --expect-key)
    key-rotation.json     optional: rotation statements from an older key (see deploy.bundle.trust)
    wheelhouse/*.whl      every dependency for the target architecture + the madoguchi wheel
    wheelhouse/requirements.txt / requirements.lock
    wheelhouse/requirements-<role>.txt  closure of each role, sha256-pinned (for --require-hashes)
    packs/<id>/           model packs copied from the local store, with their pack.json
    glossary/glossary.json  the glossary (canonical JSON)
    deploy/*.service      systemd unit templates (and the kiosk browser policy template)

The wheelhouse is downloaded with ``pip download --only-binary=:all: --platform manylinux…_<arch>
--python-version 3.11 --implementation cp --abi cp311`` and cached under
``~/.cache/madoguchi/wheelhouse-<arch>/<key>`` (key = hash of requirements, constraints and tags), so
a rebuild with the same pins never touches the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from deploy.bundle.hashes import write_hashed_requirements
from deploy.bundle.manifest import BundleError, BundleManifest, sign_manifest
from glossary.errors import SignatureError
from glossary.signing import load_private_key
from madoguchi import paths

_LOGGER = logging.getLogger(__name__)

ARCHES: Final = ("x86_64", "aarch64")
PYTHON_VERSION: Final = "3.11"
#: glibc baselines a wheel may target: Debian 12 / Raspberry Pi OS 12 ship glibc 2.36.
_MANYLINUX: Final = ("2_17", "2_24", "2_26", "2_27", "2_28", "2_31", "2_34", "2_35", "2_36")
_SOURCE_ITEMS: Final = ("pyproject.toml", "README.md", "LICENSE", "madoguchi", "edge", "server", "models",
                        "glossary", "bench", "deploy", "contracts")  # fmt: skip
_IGNORE: Final = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
_WHEEL_RE: Final = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


@dataclass(frozen=True)
class BuildOptions:
    """What to put in a bundle and where."""

    arch: str
    """Target machine: ``x86_64`` or ``aarch64`` (Raspberry Pi 4/5)."""
    out_dir: Path
    """The bundle directory to write (must not exist, or be empty; ``force`` replaces it)."""
    packs: tuple[str, ...] = ()
    """Pack ids copied from ``store_dir``."""
    store_dir: Path | None = None
    """Local pack store (default: the device's store)."""
    signing_key_path: Path | None = None
    """The pack/bundle Ed25519 private key (default ``$MADOGUCHI_HOME/pack-signing.key``)."""
    rotation_path: Path | None = None
    """Key rotation statements to ship as ``key-rotation.json`` (when the key changed)."""
    extras: tuple[str, ...] = ("edge", "server")
    """Extras of madoguchi whose pinned dependencies go into the wheelhouse."""
    cache_dir: Path | None = None
    """Download cache root (default ``$MADOGUCHI_CACHE`` or ``~/.cache/madoguchi``)."""
    tar: bool = False
    """Also write ``<out_dir>.tar`` (uncompressed: wheels and models are compressed already)."""
    force: bool = False
    source_dir: Path | None = None
    """The madoguchi source checkout (default: the one this module belongs to)."""
    include_wheels: bool = True
    """False builds packs + glossary only (for tests of the pack path)."""


@dataclass
class BuildResult:
    """A written bundle."""

    path: Path
    manifest: BundleManifest
    tar_path: Path | None = None
    wheel_count: int = 0
    size_bytes: int = 0
    sizes_bytes: dict[str, int] = field(default_factory=dict)


def build_bundle(options: BuildOptions) -> BuildResult:
    """Write a signed bundle directory (and optionally a ``.tar``) for ``options.arch``."""
    if options.arch not in ARCHES:
        raise BundleError(f"unknown --arch {options.arch!r}; use one of {', '.join(ARCHES)}")
    key = _load_signing_key(options.signing_key_path)
    source = _source_dir(options.source_dir)
    project = _read_project(source)
    out = options.out_dir.resolve()
    _prepare_out(out, force=options.force)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        wheels = 0
        if options.include_wheels:
            wheels = _fill_wheelhouse(partial / "wheelhouse", source, project, options)
        _copy_packs(partial / "packs", options)
        glossary_version = _write_glossary(partial / "glossary")
        release_id = f"{project.version}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}"
        _write_installer(partial, source, project.version, release_id, options.arch)
        if options.rotation_path is not None:
            shutil.copyfile(options.rotation_path, partial / "key-rotation.json")
        manifest = BundleManifest(
            version=project.version,
            release_id=release_id,
            arch=options.arch,
            python=PYTHON_VERSION,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            packs=tuple(options.packs),
            glossary_version=glossary_version,
        )
        manifest = sign_manifest(partial, manifest, key)
        if out.exists():
            out.rmdir()
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    result = BuildResult(path=out, manifest=manifest, wheel_count=wheels)
    result.sizes_bytes = {
        part: sum(f.size_bytes for f in manifest.files if f.path.startswith(part + "/"))
        for part in ("wheelhouse", "packs", "glossary")
    }
    result.size_bytes = sum(f.size_bytes for f in manifest.files)
    if options.tar:
        result.tar_path = _write_tar(out)
    _LOGGER.info("bundle %s written: %d wheels, packs %s, %.0f MB", out, wheels, ",".join(options.packs),
                 result.size_bytes / 1e6)  # fmt: skip
    return result


# ---------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Project:
    version: str
    requirements: tuple[str, ...]


def _load_signing_key(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        path = paths.server_home() / "pack-signing.key"
    try:
        return load_private_key(path.read_bytes())
    except FileNotFoundError:
        raise BundleError(
            f"signing key {path} not found; pass --key with the pack/bundle key "
            "(pack-signing.key from `madoguchi server keygen --purpose pack`; devices pin it)"
        ) from None
    except (OSError, SignatureError) as exc:
        raise BundleError(f"signing key {path} is unusable: {exc}") from exc


def _source_dir(explicit: Path | None) -> Path:
    source = explicit or Path(__file__).resolve().parents[2]
    if not (source / "pyproject.toml").is_file():
        raise BundleError(
            f"{source} is not a madoguchi source checkout (no pyproject.toml); "
            "build bundles from the repository: madoguchi bundle build --source DIR"
        )
    return source


def _read_project(source: Path) -> _Project:
    data = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    requirements = list(project.get("dependencies", []))
    for extra in ("edge", "server"):
        for requirement in project.get("optional-dependencies", {}).get(extra, []):
            if requirement not in requirements:
                requirements.append(requirement)
    return _Project(version=str(project["version"]), requirements=tuple(requirements))


def _prepare_out(out: Path, *, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise BundleError(f"{out} exists and is not empty; choose another --out or pass --force")
        shutil.rmtree(out)


# ---------------------------------------------------------------------------------------------- wheels


def platform_tags(arch: str) -> list[str]:
    """The ``--platform`` values for pip: every manylinux baseline up to glibc 2.36."""
    return [f"manylinux_{v}_{arch}" for v in _MANYLINUX] + [f"manylinux2014_{arch}"]


def _constraints() -> str:
    """The exact versions of the environment that built (and tested) this checkout."""
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [line for line in frozen.splitlines() if line and not line.startswith(("#", "-e", "madoguchi"))]
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def _fill_wheelhouse(dest: Path, source: Path, project: _Project, options: BuildOptions) -> int:
    cache_root = options.cache_dir or paths.cache_dir()
    requirements = "\n".join(project.requirements) + "\n"
    constraints = _constraints()
    tags = platform_tags(options.arch)
    key = hashlib.sha256("\n".join([requirements, constraints, *tags, PYTHON_VERSION]).encode()).hexdigest()
    cached = cache_root / f"wheelhouse-{options.arch}" / key[:16]
    if not (cached / ".complete").exists():
        _download_wheels(cached, requirements, constraints, tags)
    else:
        _LOGGER.info("wheelhouse for %s from the cache %s", options.arch, cached)
    dest.mkdir(parents=True)
    count = 0
    for wheel in sorted(cached.glob("*.whl")):
        _link_or_copy(wheel, dest / wheel.name)
        count += 1
    own = _build_own_wheel(source, dest)
    (dest / "requirements.txt").write_text(requirements, encoding="utf-8")
    lock = [f"{m['name']}=={m['version']}" for w in sorted(dest.glob("*.whl")) if (m := _wheel_meta(w.name))]
    (dest / "requirements.lock").write_text("\n".join(lock) + "\n", encoding="utf-8")
    write_hashed_requirements(dest, project.version, tags, PYTHON_VERSION)
    _LOGGER.info("wheelhouse: %d dependency wheels + %s", count, own.name)
    return count + 1


def _download_wheels(cached: Path, requirements: str, constraints: str, tags: list[str]) -> None:
    tmp = cached.with_name(cached.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "requirements.txt").write_text(requirements, encoding="utf-8")
    (tmp / "constraints.txt").write_text(constraints, encoding="utf-8")
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--progress-bar", "off",
               "--python-version", PYTHON_VERSION, "--implementation", "cp", "--abi", "cp311",
               "--abi", "abi3", "--abi", "none", "-r", str(tmp / "requirements.txt"),
               "-c", str(tmp / "constraints.txt"), "-d", str(tmp)]  # fmt: skip
    for tag in tags:
        command += ["--platform", tag]
    _LOGGER.info("downloading the wheelhouse into %s (first build for this set of pins)", cached)
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        errors = [line for line in completed.stderr.splitlines() if line.startswith("ERROR")]
        raise BundleError(
            f"pip download failed: {(errors or ['see pip output'])[0]} "
            "(a pinned package may have no wheel for this architecture)"
        )
    (tmp / ".complete").write_text("ok\n", encoding="utf-8")
    shutil.rmtree(cached, ignore_errors=True)
    os.replace(tmp, cached)


def _build_own_wheel(source: Path, dest: Path) -> Path:
    """``pip wheel --no-deps`` of a clean copy of the checkout (no build/ litter in the repository)."""
    with tempfile.TemporaryDirectory(prefix="madoguchi-wheel-") as tmp_name:
        tmp = Path(tmp_name)
        copy = tmp / "src"
        copy.mkdir()
        for item in _SOURCE_ITEMS:
            path = source / item
            if path.is_dir():
                shutil.copytree(path, copy / item, ignore=_IGNORE)
            elif path.is_file():
                shutil.copy2(path, copy / item)
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--progress-bar", "off",
             "-w", str(tmp / "out"), str(copy)],
            capture_output=True, text=True,
        )  # fmt: skip
        if completed.returncode != 0:
            raise BundleError(f"building the madoguchi wheel failed: {completed.stderr.strip()[-300:]}")
        wheel = next((tmp / "out").glob("madoguchi-*.whl"))
        shutil.copy2(wheel, dest / wheel.name)
        return dest / wheel.name


def _wheel_meta(name: str) -> dict[str, str] | None:
    match = _WHEEL_RE.match(name)
    return match.groupdict() if match else None


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


# ------------------------------------------------------------------------------------------ packs, glossary


def _copy_packs(dest: Path, options: BuildOptions) -> None:
    from models import PackStore, verify_pack

    store = PackStore(options.store_dir)
    dest.mkdir(parents=True)
    for pack_id in options.packs:
        pack = store.get(pack_id)
        verify_pack(pack)
        target = dest / pack_id
        for item in pack.spec.files:
            (target / item.path).parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(pack.path / item.path, target / item.path)
        shutil.copy2(pack.path / "pack.json", target / "pack.json")


def _write_glossary(dest: Path) -> str | None:
    from glossary import bundled_glossary

    dest.mkdir(parents=True)
    glossary = bundled_glossary()
    (dest / "glossary.json").write_bytes(glossary.canonical_json())
    return str(glossary.version)


def _write_installer(root: Path, source: Path, version: str, release_id: str, arch: str) -> None:
    deploy = source / "deploy"
    script = (deploy / "install.sh").read_text(encoding="utf-8")
    for name, value in {"@VERSION@": version, "@RELEASE_ID@": release_id, "@ARCH@": arch,
                        "@PYTHON@": PYTHON_VERSION}.items():  # fmt: skip
        script = script.replace(name, value)
    (root / "install.sh").write_text(script, encoding="utf-8")
    (root / "install.sh").chmod(0o755)
    (root / "deploy").mkdir()
    for item in [
        *sorted(deploy.glob("*.service")),
        deploy / "madoguchi-kiosk-policy.json",
        deploy / "health-guard.sh",
    ]:
        shutil.copy2(item, root / "deploy" / item.name)


def _write_tar(out: Path) -> Path:
    tar_path = out.with_name(out.name + ".tar")
    tmp = tar_path.with_name(tar_path.name + ".partial")
    with tarfile.open(tmp, "w") as archive:
        archive.add(out, arcname=out.name)
    os.replace(tmp, tar_path)
    return tar_path
