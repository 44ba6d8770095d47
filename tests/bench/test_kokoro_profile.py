"""``madoguchi bench kokoro-profile`` times each step to a Kokoro voice's first audio on the real model."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.data import kokoro_store

pytestmark = pytest.mark.slow


def test_profile_names_each_step_and_the_first_pieces_audio() -> None:
    store = kokoro_store()
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi", "bench", "kokoro-profile", "--store", str(store.root),
         "--voice", "kokoro-es-ef_dora", "--text", "Por favor, muestre su tarjeta de residencia."],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    cells = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("|")]
    rows = {row[0].strip(): [cell.strip() for cell in row[1:]] for row in cells}
    for step in ("phonemiser: load and first call", "ONNX session: create", "model: first run (warm-up)"):
        assert float(rows[step][0]) > 0, rows[step]
    first = rows["first piece: model run"]
    assert float(first[2]) > 0.3 and float(first[3]) > 0  # audio seconds and CPU per audio second
    assert "tokens" in first[4] and "silence" in first[4]
    assert "2 pieces" in rows["whole text: every piece"][4]  # "Por favor," then the rest
