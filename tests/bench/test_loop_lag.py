"""``madoguchi bench loop-lag`` reports the counter's event-loop lag over real hands-free turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_madoguchi


@pytest.mark.slow
def test_loop_lag_reports_the_lag_and_the_other_screens_answers(default_store: Any, tmp_path: Path) -> None:
    done = run_madoguchi(
        "bench", "loop-lag", "--store", default_store.root, "--asr-pack", "whisper-tiny", "--turns", "1",
        "--out", tmp_path, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "loop_lag.json").read_text(encoding="utf-8"))
    assert result["turns"] == 1 and result["probes"] > 0 and result["hellos"] > 0
    assert {"transcript", "turn_end"} <= set(result["messages"])
    assert result["lag_p50_ms"] <= result["lag_p95_ms"] <= result["lag_max_ms"]
    assert f"| lag_p95_ms | {result['lag_p95_ms']} |" in done.stdout


def test_a_store_without_the_asr_pack_is_a_usage_error(tmp_path: Path) -> None:
    done = run_madoguchi("bench", "loop-lag", "--store", tmp_path, "--asr-pack", "whisper-base", timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "whisper-base" in done.stderr and "--store" in done.stderr
