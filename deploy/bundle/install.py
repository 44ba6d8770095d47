"""Installing a bundle offline into a prefix, with an atomic switch, a health check and rollback.

Layout of a prefix (default ``/opt/madoguchi``)::

    releases/<release-id>/   venv/ (madoguchi + dependencies from the wheelhouse), bundle.json, glossary.json,
                             .complete (written last: a release without it is a leftover of a crash)
    current  -> releases/<id>    the one commit point: replaced by renaming a temporary symlink
    previous -> releases/<id>    what ``madoguchi bundle rollback`` and a failed health check go back to
    packs/                   the model pack store (each pack installed atomically by the models package)
    etc/madoguchi.env        configuration read by the systemd units; etc/bundle-signing.pub pins the key
                             (see :mod:`deploy.bundle.trust`: updates are checked with it and nothing else)
    data/                    device data (enrollment, glossary, outbox)

Until ``current`` is renamed into place the old release keeps running untouched, so a power cut at any
step leaves a working version. For tests, ``MADOGUCHI_BUNDLE_FAULT=<step>`` kills the installer with
SIGKILL when it reaches that step (``verify``, ``venv``, ``pip``, ``packs``, ``config``, ``switch``,
``health``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from deploy.bundle.hashes import pip_install_args
from deploy.bundle.manifest import MANIFEST_FILE, BundleError, BundleManifest, verify_bundle
from deploy.bundle.options import (
    COMPLETE_MARKER,
    DEFAULT_PREFIX,
    ENV_FILE,
    GUARD_SCRIPT,
    PENDING_MARKER,
    InstallOptions,
    InstallResult,
)
from deploy.bundle.services import install_services, systemctl, write_atomic
from deploy.bundle.trust import Trust, confirm_first_install, pinned_key_path, resolve_trust
from glossary.signing import public_key_pem
from madoguchi.files import fsync_dir

_LOGGER = logging.getLogger(__name__)

_HEALTH_TIMEOUT_S: Final = 180.0
_KEEP_RELEASES: Final = 2


def install_bundle(options: InstallOptions) -> InstallResult:
    """Verify and install a bundle; switch ``current`` to it only after it is complete and healthy.

    Raises:
        BundleError: a bad bundle, another architecture, a failed step; a failed health check after the
            switch rolls ``current`` back first and says so.
    """
    prefix = options.prefix.resolve()
    role = options.role or env_file_values(prefix / "etc" / ENV_FILE).get("MADOGUCHI_ROLE") or "edge"
    if role not in ("edge", "server"):
        raise BundleError(f"--role must be edge or server, not {role!r}")
    options = dataclasses.replace(options, role=role)
    if options.token and not (options.server_url and options.glossary_key_path):
        raise BundleError(
            "enrolling needs --server URL and --glossary-key FILE (the server's glossary-signing.pub)"
        )
    bundle = options.bundle_dir.resolve()
    _fault("verify")
    trust = resolve_trust(prefix, bundle, options.pubkey_path, options.expect_key)
    manifest = verify_bundle(bundle, trust.key)
    confirm_first_install(trust, bundle, manifest, options.expect_key, options.confirm)
    _check_arch(manifest)
    _check_space(prefix, manifest)
    for sub in ("releases", "packs", "etc", "data"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    with _locked(prefix):
        finish_interrupted_update(prefix, role)
        clean_leftovers(prefix)
        release = prefix / "releases" / manifest.release_id
        previous = current_release(prefix)
        result = InstallResult(manifest.release_id, release, previous)
        _build_release(bundle, release, manifest, role)
        _fault("packs")
        result.packs_installed = _install_packs(bundle, prefix, manifest)
        _fault("config")
        _write_config(prefix, options)
        _write_guard(prefix, release)
        _pin_key(prefix, trust)
        if options.token:
            result.enrolled = _enroll(prefix, options)
        _fault("switch")
        prior_previous = _link_target(prefix, "previous")
        write_atomic(prefix / PENDING_MARKER, f"{manifest.release_id}\n")
        if previous != manifest.release_id:
            if previous is not None:
                _point(prefix, "previous", previous)
            _point(prefix, "current", manifest.release_id)
        _fault("health")
        problem = health_check(prefix, role)
        if problem is not None:
            _undo_switch(prefix, release, previous, prior_previous)
            went_back = f"; rolled back to {previous}" if previous and previous != manifest.release_id else ""
            raise BundleError(f"release {manifest.release_id} failed its health check ({problem}){went_back}")
        (prefix / PENDING_MARKER).unlink(missing_ok=True)
        if options.services:
            result.services, notices = install_services(prefix, options)
            result.notices.extend(notices)
        _prune(prefix)
    _LOGGER.info("installed release %s into %s (previous %s)", manifest.release_id, prefix, previous)
    return result


def rollback(prefix: Path = DEFAULT_PREFIX, *, restart: bool = True) -> tuple[str, str]:
    """Swap ``current`` and ``previous``; returns ``(from_id, to_id)``.

    Raises:
        BundleError: nothing to roll back to.
    """
    prefix = prefix.resolve()
    with _locked(prefix):
        now, before = current_release(prefix), _link_target(prefix, "previous")
        if before is None or not (prefix / "releases" / before / COMPLETE_MARKER).exists():
            raise BundleError(f"{prefix} has no previous release to roll back to")
        _point(prefix, "current", before)
        if now is not None:
            _point(prefix, "previous", now)
    if restart:
        systemctl("try-restart", "madoguchi-edge.service", "madoguchi-server.service")
    _LOGGER.info("rolled back %s from %s to %s", prefix, now, before)
    return now or "", before


def current_release(prefix: Path) -> str | None:
    """The release id ``prefix/current`` points to (None before the first install)."""
    return _link_target(prefix, "current")


def releases(prefix: Path) -> list[str]:
    """Complete releases in ``prefix``, oldest first."""
    root = prefix / "releases"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / COMPLETE_MARKER).exists())


# ---------------------------------------------------------------------------------------------- steps


def _fault(step: str) -> None:
    """Fault injection for the power-cut tests: die like a power cut when the step is reached."""
    if os.environ.get("MADOGUCHI_BUNDLE_FAULT") == step:
        _LOGGER.warning("fault injection: SIGKILL at step %s", step)
        os.kill(os.getpid(), signal.SIGKILL)


def _check_arch(manifest: BundleManifest) -> None:
    machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine(), platform.machine())
    if machine != manifest.arch:
        raise BundleError(
            f"this bundle is for {manifest.arch} but this machine is {machine}; "
            f"build one with: madoguchi bundle build --arch {machine}"
        )


def _check_space(prefix: Path, manifest: BundleManifest) -> None:
    """Refuse early when the disk cannot hold an unpacked release plus the packs (wheels unpack to ~3x)."""
    wheels = sum(f.size_bytes for f in manifest.files if f.path.startswith("wheelhouse/"))
    packs = sum(f.size_bytes for f in manifest.files if f.path.startswith("packs/"))
    needed = 3 * wheels + packs
    probe = prefix
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise BundleError(
            f"{prefix} has {free / 1e6:.0f} MB free but the release needs about {needed / 1e6:.0f} MB; "
            "free some space (old releases: madoguchi bundle status) and run the installer again"
        )


@contextlib.contextmanager
def _locked(prefix: Path) -> Iterator[None]:
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BundleError(f"another install or rollback is running in {prefix}; wait for it") from None
        yield


def clean_leftovers(prefix: Path) -> list[Path]:
    """Remove releases a crash left incomplete (except the one this process runs from) and stray links."""
    removed = []
    running = Path(sys.prefix).resolve()
    for release in (prefix / "releases").iterdir() if (prefix / "releases").is_dir() else []:
        if (release / COMPLETE_MARKER).exists() or running.is_relative_to(release.resolve()):
            continue
        shutil.rmtree(release, ignore_errors=True)
        removed.append(release)
    for stray in prefix.glob(".*.tmp-*"):
        stray.unlink(missing_ok=True)
        removed.append(stray)
    for path in removed:
        _LOGGER.info("removed leftover %s", path)
    return removed


def _clean_pip_env() -> dict[str, str]:
    """pip sees only the bundle: no PIP_* variables, no configuration files of this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _base_python() -> str:
    """The system interpreter to make venvs with (not a venv's python)."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    return str(base if base.exists() else sys.executable)


def _build_release(bundle: Path, release: Path, manifest: BundleManifest, role: str) -> None:
    if (release / COMPLETE_MARKER).exists():
        _LOGGER.info("release %s is already built", manifest.release_id)
        return
    venv = release / "venv"
    running_here = Path(sys.prefix).resolve() == venv.resolve()
    _fault("venv")
    if not running_here:
        shutil.rmtree(release, ignore_errors=True)
        release.mkdir(parents=True)
        _run([_base_python(), "-m", "venv", str(venv)], "creating the virtual environment")
    _fault("pip")
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
         *pip_install_args(bundle / "wheelhouse", role)],
        "installing the bundled wheels (pip install --no-index --require-hashes)", env=_clean_pip_env(),
    )  # fmt: skip
    shutil.copy2(bundle / MANIFEST_FILE, release / MANIFEST_FILE)
    shutil.copytree(bundle / "deploy", release / "deploy", dirs_exist_ok=True)
    if (bundle / "glossary" / "glossary.json").exists():
        shutil.copy2(bundle / "glossary" / "glossary.json", release / "glossary.json")
    write_atomic(release / COMPLETE_MARKER, f"{manifest.release_id}\n")
    fsync_dir(release.parent)


def _install_packs(bundle: Path, prefix: Path, manifest: BundleManifest) -> list[str]:
    from models import PackStore, install_pack
    from models.errors import ModelPackError

    store = PackStore(prefix / "packs")
    done = []
    for pack_id in manifest.packs:
        source = bundle / "packs" / pack_id
        if _same_pack(store, pack_id, source):
            _LOGGER.info("pack %s is already installed", pack_id)
            continue
        try:
            install_pack(str(source), store, cache_dir=prefix / "data" / "cache", accept_noncommercial=True)
        except ModelPackError as exc:
            raise BundleError(f"installing pack {pack_id} from the bundle failed: {exc}") from exc
        done.append(pack_id)
    return done


def _same_pack(store, pack_id: str, source: Path) -> bool:  # type: ignore[no-untyped-def]
    import json

    if not store.is_installed(pack_id):
        return False

    def files(path: Path) -> set[tuple[str, str]]:  # fmt: skip
        data = json.loads((path / "pack.json").read_text(encoding="utf-8"))
        return {(f["path"], f.get("sha256") or "") for f in data.get("files", [])}

    try:
        from models import verify_pack

        pack = store.get(pack_id)
        if files(pack.path) != files(source):
            return False
        verify_pack(pack, quick=True)
        return True
    except Exception:  # a damaged installed pack: reinstall it from the bundle
        return False


def env_file_values(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of an environment file (comments and blanks skipped)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def _write_config(prefix: Path, options: InstallOptions) -> None:
    """Write ``etc/madoguchi.env``; values IT edited before are kept, given options win."""
    path = prefix / "etc" / ENV_FILE
    values = {
        "MADOGUCHI_HOME": str(prefix / "data"),
        "MADOGUCHI_PACKS": str(prefix / "packs"),
        "MADOGUCHI_CACHE": str(prefix / "data" / "cache"),
        "MADOGUCHI_PORT": str(options.port),
        "HF_HUB_OFFLINE": "1",
        "ORT_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    values.update(env_file_values(path))
    values["MADOGUCHI_ROLE"] = options.role or "edge"
    if options.server_url:
        values["MADOGUCHI_SERVER_URL"] = options.server_url.rstrip("/")
    header = (
        "# madoguchi configuration, read by the systemd units (EnvironmentFile=).\n"
        "# Edit, then: systemctl restart madoguchi-edge (or madoguchi-server). Kept across updates.\n"
    )
    write_atomic(path, header + "".join(f"{k}={v}\n" for k, v in values.items()))


def _pin_key(prefix: Path, trust: Trust) -> None:
    """Pin the key this prefix trusts for later bundles: the first one IT confirmed, or a rotation of it."""
    pinned = pinned_key_path(prefix)
    if pinned.exists() and not trust.rotated_to:
        return
    write_atomic(pinned, public_key_pem(trust.key).decode("ascii"))
    if trust.rotated_to:
        _LOGGER.warning(
            "bundle key of %s rotated to %s (signed by the old key)", prefix, trust.rotated_to[-1]
        )


def _enroll(prefix: Path, options: InstallOptions) -> bool:
    """Enroll with the server: glossary key from IT, pack key = the bundle key this prefix pins."""
    from edge.sync.enrollment import enroll

    assert options.server_url and options.token and options.glossary_key_path
    enroll(
        options.server_url, options.token, options.glossary_key_path, prefix / "data",
        pack_key_file=pinned_key_path(prefix),
    )  # fmt: skip
    return True


# ------------------------------------------------------------------------------------------ switch, health


def _link_target(prefix: Path, name: str) -> str | None:
    try:
        return Path(os.readlink(prefix / name)).name
    except (FileNotFoundError, OSError):
        return None


def _point(prefix: Path, name: str, release_id: str) -> None:
    """Atomically make ``prefix/name`` a symlink to ``releases/<release_id>`` (temp symlink + rename)."""
    tmp = prefix / f".{name}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(Path("releases") / release_id, tmp)
    os.replace(tmp, prefix / name)
    fsync_dir(prefix)


def health_check(prefix: Path, role: str = "edge") -> str | None:
    """Run the release behind ``current``: ``madoguchi --version`` and an import self-check.

    Returns None when healthy, else a one-line reason.
    """
    venv = prefix / "current" / "venv" / "bin"
    # the release's own environment only: a PYTHONPATH would run other code than the release's
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env_file_values(
        prefix / "etc" / ENV_FILE
    )
    modules = (
        "edge.turn.pipeline, edge.sync.client, models, glossary"
        if role == "edge"
        else "server.main, glossary"
    )
    checks = [
        [str(venv / "madoguchi"), "--version"],
        [
            str(venv / "python"),
            "-c",
            f"import {modules}; from models import PackStore; PackStore().installed()",
        ],
    ]
    if role == "edge" and shutil.which("espeak-ng") is None:
        return (
            "espeak-ng is not installed (the machine voice of vi, ko, id, ne; es, pt without Kokoro): "
            "apt-get install espeak-ng"
        )
    for command in checks:
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=_HEALTH_TIMEOUT_S, cwd=prefix
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{Path(command[0]).name} could not run: {exc}"
        if completed.returncode != 0:
            last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            return f"`{Path(command[0]).name} {command[1]}` exited {completed.returncode}: {last[:200]}"
    return None


def _undo_switch(prefix: Path, release: Path, previous: str | None, prior_previous: str | None) -> None:
    """Put ``current`` and ``previous`` back as they were and drop the release that failed."""
    if previous is not None and previous != release.name:
        _point(prefix, "current", previous)
        if prior_previous is not None:
            _point(prefix, "previous", prior_previous)
        else:
            (prefix / "previous").unlink(missing_ok=True)
        shutil.rmtree(release, ignore_errors=True)
    elif previous is None:
        (prefix / "current").unlink(missing_ok=True)
    (prefix / PENDING_MARKER).unlink(missing_ok=True)
    fsync_dir(prefix)


def finish_interrupted_update(prefix: Path, role: str = "edge") -> str | None:
    """After a power cut between the switch and the health check: check now, go back if it fails.

    Returns the release rolled back to, or None. (``etc/health-guard.sh`` does the same before the
    services start, without needing the new release's Python.)
    """
    if not (prefix / PENDING_MARKER).exists():
        return None
    problem = health_check(prefix, role) if current_release(prefix) else "no current release"
    previous = _link_target(prefix, "previous")
    (prefix / PENDING_MARKER).unlink(missing_ok=True)
    if problem is None or previous is None:
        return None
    _point(prefix, "current", previous)
    _LOGGER.warning(
        "the release of an interrupted update failed its check (%s); back to %s", problem, previous
    )
    return previous


def _write_guard(prefix: Path, release: Path) -> None:
    """Install ``etc/health-guard.sh`` (run by the units before start) from the new release."""
    source = release / "deploy" / GUARD_SCRIPT
    if not source.exists():
        return
    path = prefix / "etc" / GUARD_SCRIPT
    write_atomic(path, source.read_text(encoding="utf-8").replace("@PREFIX@", str(prefix)))
    path.chmod(0o755)


def _prune(prefix: Path) -> None:
    keep = {current_release(prefix), _link_target(prefix, "previous")}
    complete = releases(prefix)
    for release_id in complete[: max(0, len(complete) - _KEEP_RELEASES)]:
        if release_id not in keep:
            shutil.rmtree(prefix / "releases" / release_id, ignore_errors=True)
            _LOGGER.info("removed old release %s", release_id)


# ---------------------------------------------------------------------------------------------- files


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise BundleError(f"{what} failed: {last[:300]}")
