"""``madoguchi translate`` as a subprocess: bad inputs fail with one line, good ones write result.json."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edge.audio.decode import write_wav
from tests.shared_data import english_voice, whisper_base_dir
from tests.support.audio import write_float_wav
from tests.support.cli import run_madoguchi

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO / "edge" / "samples" / "ja_common_voice_19482480.mp3"


def run_cli(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "MADOGUCHI_HOME": str(home),
        "MADOGUCHI_ASR_MODEL_DIR": str(whisper_base_dir()),
        "MADOGUCHI_VOICE_FILES": str(english_voice()),
    }
    return run_madoguchi(*args, env=env)


def _make(kind: str, tmp: Path) -> Path:
    path = tmp / f"{kind}.wav"
    if kind == "missing":
        return tmp / "does-not-exist.wav"
    if kind == "text":
        path.write_text("not audio at all\n")
    elif kind == "empty":
        path.touch()
    elif kind == "short":
        write_wav(path, np.full(3200, 0.2, dtype=np.float32), 16000)
    elif kind == "nan":
        samples = np.zeros(16000, dtype=np.float32)
        samples[10] = np.nan
        write_float_wav(path, samples)
    elif kind == "long":
        path = tmp / "long.flac"
        subprocess.run(
            ["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "610", "sine", "200"], check=True
        )
    elif kind == "silence":
        write_wav(path, np.zeros(3 * 16000, dtype=np.float32), 16000)
    return path


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("missing", "AudioFileNotFound"),
        ("text", "AudioDecodeError"),
        ("empty", "EmptyAudio"),
        ("short", "AudioTooShort"),
        ("nan", "InvalidSamples"),
        ("long", "AudioTooLong"),
        ("silence", "NoSpeechError"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tmp_path: Path, kind: str, error: str) -> None:
    proc = run_cli(
        "translate", _make(kind, tmp_path), "--target", "en", "--out", tmp_path / "out", home=tmp_path
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{error}: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_unknown_language_lists_valid_codes(tmp_path: Path) -> None:
    proc = run_cli("translate", CLIP, "--target", "xx", home=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(
        "LanguageError: unknown target language 'xx'; use one of: ja, vi, zh"
    )


@pytest.mark.slow
def test_ja_to_en_writes_result_and_speech(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("translate", CLIP, "--target", "en", "--source", "ja", "--out", out, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["source_language"] == "ja" and result["target_language"] == "en"
    assert result["mt_engine"] == "whisper-translate"
    assert result["target_text"]
    assert {"asr", "mt", "tts", "total"} <= result["timings_ms"].keys()
    assert (out / "speech.wav").stat().st_size > 44 + 22050  # more than half a second of speech
    assert sorted(p.name for p in out.iterdir()) == ["result.json", "speech.wav"]


@pytest.mark.slow
def test_ja_to_vi_without_packs_exits_zero_with_transcript(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("translate", CLIP, "--target", "vi", "--out", out, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["source_language"] == "ja" and result["source_text"]
    assert result["mt_engine"] == "none" and result["target_text"] == ""
    assert any("madoguchi models install" in n for n in result["notices"])
    assert not (out / "speech.wav").exists()


@pytest.mark.slow
def test_edge_info_lists_languages(tmp_path: Path) -> None:
    proc = run_cli("edge", "info", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ASR: ok" in proc.stdout
    assert "vi" in proc.stdout and "none (text only)" in proc.stdout
