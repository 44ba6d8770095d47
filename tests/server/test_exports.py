"""The server package's public names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import server

REPO = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_resolves() -> None:
    assert server.__all__ == sorted(server.__all__)
    for name in server.__all__:
        assert getattr(server, name) is not None


def test_importing_the_errors_stays_light() -> None:
    code = "import sys, server.errors; print('fastapi' in sys.modules, 'sqlalchemy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.split() == ["False", "False"]
