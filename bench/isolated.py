"""Measurements in a fresh process: this process's peak memory, and a bench function run in a new Python.

A model's memory is only its own in a process that loaded nothing else, so the memory and decoding probes
run as ``python -c`` children of the benchmark and print their result as one JSON line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB), from ``VmHWM``: unlike ``ru_maxrss`` it starts afresh in
    a spawned child (Linux keeps ``ru_maxrss`` across exec, so a child would report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_isolated(
    module: str,
    function: str,
    kwargs: dict[str, Any],
    *,
    timeout_s: float | None = 600.0,
    check: bool = False,
) -> dict[str, Any]:
    """``module.function(**kwargs)`` in a fresh Python (cwd: the repository); returns its JSON result.

    A failed child gives ``{"error": <last line of its stderr>}``, or raises ``CalledProcessError`` when
    ``check``.
    """
    code = (
        f"import json,sys;from {module} import {function} as f;"
        "print(json.dumps(f(**json.loads(sys.argv[1]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=check,
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail}
    return json.loads(out.stdout.strip().splitlines()[-1])
