"""``madoguchi bench voices``: real voices over the phrase book, transcribed back with Whisper base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import EdgeSettings
from tests.support.data import REPO_DIR, default_store

pytestmark = pytest.mark.slow


def test_bench_voices_reports_round_trip_speed_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    store = default_store().root
    done = subprocess.run(
        [sys.executable, "-m", "madoguchi", "bench", "voices", "--store", str(store), "--limit", "2",
         "--language", "ja-easy", "--language", "vi", "--out", str(out)],
        cwd=REPO_DIR, env={**os.environ}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((out / "voices.json").read_text(encoding="utf-8"))
    rows = {(row["voice"], row["language"]): row for row in results["rows"]}
    mei = rows[("openjtalk-mei", "ja-easy")]
    assert mei["metric"] == "cer" and mei["kana_cer"] is not None and mei["phrases"] == 2
    assert mei["rtf"] > 0 and mei["first_chunk_ms_median"] > 0 and mei["peak_rss_mb"] > 0
    assert 0 < mei["first_chunk_cpu_ms_median"] < 60_000
    machine = rows[("espeak-ng", "vi")]
    assert (
        machine["quality"] == "machine" and machine["metric"] == "wer" and machine["error_rate"] is not None
    )
    assert 0 < results["child_baseline_rss_mb"] < mei["peak_rss_mb"]
    assert results["asr_beam_size"] == EdgeSettings().beam_size  # decoded as the counter decodes
    heard = json.loads((out / "voices-heard.json").read_text(encoding="utf-8"))
    mei_heard = next(
        item for item in heard if (item["voice"], item["language"]) == ("openjtalk-mei", "ja-easy")
    )
    assert len(mei_heard["phrases"]) == 2 and all(p["heard"].strip() for p in mei_heard["phrases"])
    assert all(len(p["kana"]) == 2 for p in mei_heard["phrases"])  # asked and heard readings
    assert "| openjtalk-mei | neural | ja-easy |" in (out / "voices.md").read_text(encoding="utf-8")


def test_kana_reference_is_what_the_voice_was_asked_to_say() -> None:
    from bench.voices import KanaReader

    reader = KanaReader()
    assert reader.asked("一日に来てください。", "ja-easy").startswith("ツイタチ")  # the furigana shown
    assert reader.asked("一日に来てください。", "ja").startswith("イチニチ")  # OpenJTalk's own reading
    assert reader.asked("分別してください。", "ja").startswith("ブンベツ")  # the glossary's reading
    assert reader.heard("分別してください。") == reader.asked("分別してください。", "ja")
    assert reader.heard("  ") == ""


def test_clips_are_heard_after_the_vad_pre_roll() -> None:
    """Whisper gets each clip as the counter's recogniser gets an utterance: the VAD's pre-roll first."""
    import numpy as np

    from bench.voices import as_captured
    from edge.audio.vad import VadOptions

    clip = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    heard = as_captured(clip)
    lead = VadOptions().speech_pad_ms * 16
    assert lead > 0 and heard.size == clip.size + lead
    assert not heard[:lead].any() and np.array_equal(heard[lead:], clip)
