"""The CLI speaks like the counter: Easy Japanese text with readings and speech.wav in Japanese, and
``edge info`` names each language's voice, the machine voice's label and Mei's attribution."""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import pytest

from tests.support.cli import run_madoguchi
from tests.support.data import default_store

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "edge" / "samples" / "ja_common_voice_19482480.mp3"

pytestmark = pytest.mark.slow


def run_cli(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"MADOGUCHI_HOME": str(home), "MADOGUCHI_PACKS_DIR": str(default_store().root)}
    return run_madoguchi(*args, env=env)


def test_translate_to_easy_japanese_writes_readings_and_japanese_speech(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("translate", CLIP, "--target", "ja-easy", "--out", out, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["target_language"] == "ja-easy" and result["mt_engine"] == "easy-ja"
    assert result["voice"] == "openjtalk-mei" and result["voice_quality"] == "neural"
    readings = result["readings"]
    assert "".join(r["text"] for r in readings) == result["target_text"]
    assert any(r["reading"] for r in readings)
    shown = "".join(f"{r['text']}[{r['reading']}]" if r["reading"] else r["text"] for r in readings)
    assert f"[reading] {shown}" in proc.stdout
    with wave.open(str(out / "speech.wav")) as wav:
        assert wav.getframerate() == 48000 and wav.getnframes() > 48000  # over a second of Japanese


def test_edge_info_names_voices_machine_label_and_mei_credit(tmp_path: Path) -> None:
    env_languages = "ja vi tl en"
    os.environ["MADOGUCHI_LANGUAGES"] = env_languages
    try:
        proc = run_cli("edge", "info", home=tmp_path)
    finally:
        del os.environ["MADOGUCHI_LANGUAGES"]
    assert proc.returncode == 0, proc.stderr
    lines = {
        line.split()[0]: line for line in proc.stdout.splitlines() if line[:3].strip() in {"ja", "vi", "tl"}
    }
    assert lines["ja"].endswith("openjtalk-mei")
    assert "espeak-ng (machine voice, low quality)" in lines["vi"]
    assert lines["tl"].endswith("none (text only)")
    assert 'voice credit (openjtalk-mei): HTS Voice "Mei"' in proc.stdout and "CC BY 3.0" in proc.stdout
