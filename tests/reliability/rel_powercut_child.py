"""Child process of the power-cut tests: run one update and SIGKILL it at each of its write steps.

Usage: ``python rel_powercut_child.py SCENARIO BASE WORK ARGS...``

The update runs once in a copy of BASE to count its steps, then once per step N in ``WORK/<N>`` (a
fresh copy of BASE) inside a forked process that sends itself SIGKILL at step N: no ``finally``, no
``atexit``, no flush, the same as pulling the plug (minus the page cache). A step is every call of a
C function that changes the disk (``write``, ``fsync``, ``replace``, ``rename``, ``unlink``, ``rmdir``,
``mkdir``, ``truncate``, ``ftruncate``), found with ``sys.setprofile``; creating a file is covered by
the write that follows it. Prints one JSON line: ``{"steps": S, "killed": [N, ...]}``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_STEP_NAMES = frozenset(
    {"write", "fsync", "replace", "rename", "unlink", "rmdir", "mkdir", "truncate", "ftruncate"}
)


class _Counter:
    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at
        self.steps = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") in _STEP_NAMES:
            self.steps += 1
            if self.steps == self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)


def _update(scenario: str, args: list[str]) -> Callable[[Path], None]:
    """The update to run against a copy of the base directory."""
    if scenario == "glossary":
        from edge.sync.glossary_store import GlossaryStore
        from glossary.signing import load_public_key

        body = Path(args[0]).read_bytes()
        key = load_public_key(Path(args[1]).read_bytes())
        return lambda directory: GlossaryStore(directory, key).install(body)
    if scenario == "pack":
        from models import PackStore, install_pack

        source = args[0]
        return lambda directory: install_pack(source, PackStore(directory), cache_dir=directory / ".cache")
    raise SystemExit(f"unknown scenario {scenario}")


def _run(update: Callable[[Path], None], directory: Path, kill_at: int) -> int:
    counter = _Counter(kill_at)
    sys.setprofile(counter)
    try:
        update(directory)
    finally:
        sys.setprofile(None)
    return counter.steps


def main(argv: list[str]) -> None:
    scenario, base, work, *args = argv
    update = _update(scenario, args)
    warm = Path(work) / "warm"  # first run: lazy imports (and their .pyc writes) happen here, uncounted
    shutil.copytree(base, warm)
    update(warm)
    full = Path(work) / "full"
    shutil.copytree(base, full)
    steps = _run(update, full, 0)
    killed = []
    for n in range(1, steps + 1):
        target = Path(work) / str(n)
        shutil.copytree(base, target)
        pid = os.fork()
        if pid == 0:
            try:
                _run(update, target, n)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed.append(n)
    sys.stdout.write(json.dumps({"steps": steps, "killed": killed}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
