"""The file guard: a test that opens anything outside the repository, the temporary directories, the model
store and the system fails, naming the path.

An audit hook (``sys.addaudithook``) sees every ``open`` and directory listing of the test process, in
every thread. Paths are checked without touching the file system (``os.path.abspath``), so the check
cannot itself open anything. Child processes are not watched here; ``.ci/run`` proves them by running the
suite in a clone with nothing beside it.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
_EVENTS = {"open", "os.listdir", "os.scandir", "shutil.copyfile", "shutil.copytree", "shutil.rmtree"}
#: Read-only system places every Python program and library touches.
_SYSTEM = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/run")
#: Caches under the home directory that tests may use: the model store and the tools' own caches.
_HOME_CACHES = (
    ".cache/madoguchi",
    ".local/share/madoguchi",
    ".cache/ms-playwright",
    ".cache/matplotlib",
    ".config/matplotlib",
    ".cache/pip",
    ".cache/huggingface",
    ".local/lib",
)


def allowed_roots() -> tuple[str, ...]:
    """Directories a test may open files under (absolute, without a trailing slash)."""
    home = Path.home()
    roots = [
        REPO_DIR,
        Path(tempfile.gettempdir()),
        Path("/tmp"),
        Path("/var/tmp"),
        Path("/dev/shm"),
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
        *(Path(p) for p in sysconfig.get_paths().values()),
        *(Path(p) for p in site.getsitepackages()),
        *(home / cache for cache in _HOME_CACHES),
        *(Path(p) for p in _SYSTEM),
    ]
    for variable in ("MADOGUCHI_CACHE", "MADOGUCHI_HOME", "MADOGUCHI_PACKS"):
        if os.environ.get(variable):
            roots.append(Path(os.environ[variable]))
    return tuple(sorted({os.path.abspath(r) for r in roots}))


def beside_the_clone() -> str:
    """What lies beside the repository (its parent), which is never allowed, temporary or not (a CI
    clone lives in a temporary directory); when the parent is a temporary root itself, only the
    ``shared`` folder that developers keep beside their clones."""
    parent = os.path.abspath(REPO_DIR.parent)
    temp_roots = {os.path.abspath(p) for p in (tempfile.gettempdir(), "/tmp", "/var/tmp")}
    return os.path.join(parent, "shared") if parent in temp_roots else parent


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


class FileGuard:
    """Records opens outside ``roots`` (or beside the repository); ``take()`` returns and clears them."""

    def __init__(self, roots: tuple[str, ...], beside: str) -> None:
        self.roots = roots
        self.beside = beside
        self._repo = os.path.abspath(REPO_DIR)
        self._outside: list[str] = []
        self._lock = threading.Lock()
        self._busy = threading.local()

    def is_allowed(self, path: str) -> bool:
        absolute = os.path.abspath(path)
        if _under(absolute, self.beside) and not _under(absolute, self._repo):
            return False
        return any(_under(absolute, root) for root in self.roots)

    def audit(self, event: str, args: tuple) -> None:
        if event not in _EVENTS or not args or getattr(self._busy, "on", False):
            return
        target = args[0]
        if isinstance(target, int) or target is None:
            return  # a file descriptor (already opened) or the current directory
        self._busy.on = True
        try:
            path = os.fsdecode(target)
            if not self.is_allowed(path):
                with self._lock:
                    self._outside.append(f"{event}: {os.path.abspath(path)}")
        except (TypeError, ValueError):
            pass
        finally:
            self._busy.on = False

    def take(self) -> list[str]:
        with self._lock:
            outside, self._outside = self._outside, []
        return sorted(set(outside))

    @contextmanager
    def expect_outside(self) -> Iterator[list[str]]:
        """Collects the outside opens of the block (for the guard's own test) instead of failing."""
        before = self.take()
        seen: list[str] = []
        try:
            yield seen
        finally:
            seen.extend(self.take())
            with self._lock:
                self._outside.extend(before)


GUARD = FileGuard(allowed_roots(), beside_the_clone())
_INSTALLED = False


def install() -> FileGuard:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    global _INSTALLED
    if not _INSTALLED:
        sys.addaudithook(GUARD.audit)
        _INSTALLED = True
    return GUARD


def message(outside: list[str]) -> str:
    shown = "\n  ".join(outside[:20])
    more = f"\n  ... and {len(outside) - 20} more" if len(outside) > 20 else ""
    return (
        "opened paths outside the repository, the temporary directories and the model store "
        f"(tests carry their data in tests/data):\n  {shown}{more}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Turn a test phase that opened an outside path into a failure naming the paths."""
    outcome = yield
    report = outcome.get_result()
    outside = GUARD.take()
    if outside and not report.failed:
        report.outcome = "failed"
        report.longrepr = f"[file guard] {item.nodeid} ({call.when}) {message(outside)}"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Opens outside while importing the test modules fail the collection."""
    outside = GUARD.take()
    if outside:
        raise pytest.UsageError(f"[file guard] while collecting: {message(outside)}")
