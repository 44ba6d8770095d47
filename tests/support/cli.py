"""The ``madoguchi`` CLI of the checkout under test, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the repository (or ``cwd``), text output captured, ``env`` added to ours."""
    env = {**os.environ, **kwargs.pop("env", {})}
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=kwargs.pop("cwd", REPO), **kwargs
    )


def run_madoguchi(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``python -m madoguchi ARGS`` with :func:`run` (``env`` added to ours, 300 s unless ``timeout``)."""
    kwargs.setdefault("timeout", 300)
    return run([sys.executable, "-m", "madoguchi", *map(str, args)], **kwargs)
