"""npm package tarballs as a pack source (e.g. Kokoro voice vectors from ``kokoro-js``).

The tarball is fetched with npm's own client (``npm pack name@version``), so the machine's npm registry,
mirror and proxy settings apply; its members are then read like a wheel's. Each file taken from it is
pinned by sha256 in the catalogue.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from models.errors import PackSourceError

_LOGGER = logging.getLogger(__name__)

_SPEC = re.compile(r"^(@?[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)?)@([0-9][0-9A-Za-z.+-]*)$")


def tarball_name(package: str) -> str:
    """The file name ``npm pack`` gives ``name@version`` (``@scope/name`` → ``scope-name-version.tgz``)."""
    match = _SPEC.match(package)
    if match is None:
        raise PackSourceError(f"npm package {package!r} must be name@version (e.g. kokoro-js@1.2.1)")
    name, version = match.groups()
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def fetch_npm_tarball(package: str, cache_dir: Path, *, timeout_s: float = 600.0) -> Path:
    """The cached tarball of ``package`` (``name@version``), downloaded with ``npm pack`` when missing."""
    dest = cache_dir / tarball_name(package)
    if dest.is_file():
        _LOGGER.debug("using cached npm tarball %s", dest)
        return dest
    npm = shutil.which("npm")
    if npm is None:
        raise PackSourceError(
            f"npm is not installed, so {package} cannot be fetched; install npm or copy the pack file "
            "to this machine and run `madoguchi models install FILE`"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [npm, "pack", package, "--pack-destination", str(cache_dir), "--silent"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr.strip().splitlines() or ["no output"])[-1]
        raise PackSourceError(f"npm could not fetch {package}: {last[:200]}; check the npm registry") from exc
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise PackSourceError(f"npm could not fetch {package} ({type(exc).__name__}); try again") from exc
    if not dest.is_file():
        raise PackSourceError(f"npm pack {package} did not leave {dest.name} in {cache_dir}")
    return dest


@contextlib.contextmanager
def tar_members(tarball: Path) -> Iterator[dict[str, IO[bytes]]]:
    """Regular files of a ``.tgz`` by member name, opened for reading (closed on exit).

    Raises:
        tarfile.TarError: the tarball is corrupt.
    """
    with tarfile.open(tarball, "r:gz") as archive:
        members: dict[str, IO[bytes]] = {}
        for info in archive.getmembers():
            if info.isfile():
                handle = archive.extractfile(info)
                if handle is not None:
                    members[info.name] = handle
        yield members
