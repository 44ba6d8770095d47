"""Helpers of the deployment tests (the CLI under test, subprocess runs, network-namespace checks)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.cli import REPO, run

__all__ = [
    "REPO",
    "built_once",
    "can_unshare_net",
    "key_fingerprint",
    "madoguchi_command",
    "offline_command",
    "outside_connects",
    "run",
]


def madoguchi_command() -> list[str]:
    """The CLI of the checkout under test (the development venv)."""
    return [sys.executable, "-c", "from madoguchi.cli import main; main()"]


def key_fingerprint(pub: Path) -> str:
    """The full fingerprint of a public key file (what IT publishes for ``--expect-key``)."""
    from glossary.signing import load_public_key, public_key_fingerprint

    return public_key_fingerprint(load_public_key(pub.read_bytes()), full=True)


def can_unshare_net() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def offline_command(script: str, trace: Path) -> list[str]:
    """``sh -c script`` in a network namespace with only loopback (``script`` brings ``lo`` up), its
    connect() calls traced into ``trace`` when strace is there (seccomp-bpf: only connect() stops the
    traced processes, so a pip install under strace runs at full speed)."""
    if shutil.which("strace") is None:
        return ["unshare", "-n", "sh", "-c", script]
    strace = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o", str(trace)]
    return ["unshare", "-n", *strace, "sh", "-c", script]


def outside_connects(trace: Path | None) -> list[str]:
    """connect() calls of a strace log to anything but loopback or a local socket."""
    if trace is None:
        return []
    bad = []
    for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
        if "connect(" not in line or "AF_UNIX" in line or "AF_LOCAL" in line:
            continue
        if 'inet_addr("127.' in line or 'inet_pton(AF_INET6, "::1"' in line or "AF_NETLINK" in line:
            continue
        bad.append(line.strip())
    return bad


def built_once(tmp_path_factory: Any, name: str, build: Callable[[Path], None]) -> Path:
    """``<shared temp>/<name>``, built by ``build(dir)`` once per test run, whatever the xdist worker.

    The xdist workers' temporary directories share a parent; the first worker to get here builds under
    a file lock, the others wait and reuse the result (read-only). Without xdist it is built once too.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            if target.exists():
                shutil.rmtree(target)  # a half build of a worker that failed
            target.mkdir(parents=True)
            build(target)
            done.touch()
    return target
