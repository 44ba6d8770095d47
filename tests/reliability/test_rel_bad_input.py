"""Bad input: audio of every odd shape and malformed glossary spreadsheets are handled or refused clearly.

Covered elsewhere (not repeated): ``madoguchi translate`` on a missing, text, empty, too short, NaN,
10-minute and silent file (``tests/edge/test_translate_cli.py``); arbitrary bytes and text through the
CSV reader (``tests/glossary/test_glossary_properties.py``); CSV injection on export
(``tests/glossary/test_glossary_io.py``).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from edge.audio.decode import SAMPLE_RATE, InvalidSamples, check_samples, load_audio
from glossary.errors import GlossaryError
from glossary.io import load_upload, terms_csv, xlsx_bytes
from tests.support.faults import REPO_ROOT
from tests.support.glossaries import small_glossary

AUDIO_CHILD = Path(__file__).with_name("rel_audio_child.py")


def _wav(path: Path, samples: np.ndarray, rate: int, *, fmt: str) -> Path:
    """Write ``samples`` (frames × channels, floats in [-1, 1]) as PCM u8/s16/s24 or IEEE float32."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    channels = frames.shape[1]
    if fmt == "u8":
        data, bits, tag = (np.clip(frames, -1, 1) * 127 + 128).astype(np.uint8).tobytes(), 8, 1
    elif fmt == "s16":
        data, bits, tag = (np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes(), 16, 1
    elif fmt == "s24":
        ints = (np.clip(frames, -1, 1) * 8388607).astype("<i4").reshape(-1)
        data, bits, tag = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints), 24, 1
    else:
        data, bits, tag = frames.astype("<f4").tobytes(), 32, 3
    block = channels * bits // 8
    header = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    chunk = b"WAVEfmt " + struct.pack("<I", 16) + header + b"data" + struct.pack("<I", len(data))
    path.write_bytes(b"RIFF" + struct.pack("<I", len(chunk) + len(data)) + chunk + data)
    return path


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.4 * np.sin(2 * np.pi * 220 * t)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize(
    ("name", "rate", "channels", "fmt"),
    [
        ("96khz-24bit-stereo", 96000, 2, "s24"),
        ("8khz-8bit-mono", 8000, 1, "u8"),
        ("48khz-6-channels", 48000, 6, "s16"),
        ("44khz-float", 44100, 1, "f32"),
    ],
)
def test_odd_formats_become_16khz_mono(tmp_path: Path, name: str, rate: int, channels: int, fmt: str) -> None:
    audio = load_audio(_wav(tmp_path / f"{name}.wav", _tone(1.5, rate, channels), rate, fmt=fmt))
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 1.5 * SAMPLE_RATE) < 0.02 * SAMPLE_RATE
    assert np.isfinite(audio).all() and 0.1 < np.abs(audio).max() <= 1.0


def test_non_finite_samples_are_refused_from_files_and_arrays(tmp_path: Path) -> None:
    six = _tone(1.0, 48000, 6).astype(np.float32)
    six[1000, 4] = np.nan
    with pytest.raises(InvalidSamples, match="NaN or infinite"):
        load_audio(_wav(tmp_path / "nan-6ch.wav", six, 48000, fmt="f32"))
    for bad in (np.nan, np.inf, -np.inf):
        samples = _tone(1.0, SAMPLE_RATE).astype(np.float32)
        samples[5] = bad
        with pytest.raises(InvalidSamples):
            check_samples(samples)


def test_three_hour_file_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """3 h of 8 kHz 8-bit (86 MB; 690 MB as 16 kHz float32) is refused, using little memory."""
    path = tmp_path / "three-hours.wav"
    rate, seconds = 8000, 3 * 3600
    second = (128 + 100 * np.sin(2 * np.pi * 300 * np.arange(rate) / rate)).astype(np.uint8).tobytes()
    size = rate * seconds
    with path.open("wb") as out:
        fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
        out.write(
            b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", size)
        )
        for _ in range(seconds):
            out.write(second)
    result = subprocess.run(
        [sys.executable, str(AUDIO_CHILD), str(path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    assert outcome["ok"] is False and outcome["error"] == "AudioTooLong"
    assert "split it into single utterances" in outcome["message"]
    assert outcome["rss_growth_mb"] < 100, outcome


# --- glossary spreadsheets -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_csv() -> str:
    return terms_csv(small_glossary("one").terms.values())


def _refused(filename: str, data: bytes) -> str:
    with pytest.raises(GlossaryError) as info:
        load_upload(filename, data)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_excel_shift_jis_and_utf16_csv_are_refused_with_the_fix(good_csv: str) -> None:
    assert "Shift_JIS" in _refused("terms.csv", good_csv.encode("cp932"))
    assert "CSV UTF-8" in _refused("terms.csv", good_csv.encode("cp932"))
    assert "UTF-8" in _refused("terms.csv", good_csv.encode("utf-16"))
    assert load_upload("terms.csv", b"\xef\xbb\xbf" + good_csv.encode()).terms  # Excel's UTF-8 BOM is fine


def test_huge_cells_are_refused(good_csv: str) -> None:
    header, first, *rest = good_csv.splitlines()
    huge = first.replace("certificate of residence (en, one)", "x" * 300_000, 1)
    assert "field larger than" in _refused("terms.csv", "\n".join([header, huge, *rest]).encode())
    long = first.replace("certificate of residence (en, one)", "y" * 5_000, 1)
    assert "terms.csv:2" in _refused("terms.csv", "\n".join([header, long, *rest]).encode())


def test_formulas_are_refused_in_csv_and_xlsx(good_csv: str) -> None:
    header, first, *rest = good_csv.splitlines()
    evil = first.replace("certificate of residence (en, one)", "=1+cmd|' /C calc'!A0", 1)
    assert "formula" in _refused("terms.csv", "\n".join([header, evil, *rest]).encode())
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(small_glossary("one"))))
    sheet = book["terms"]
    column = [c.value for c in sheet[1]].index("en") + 1
    sheet.cell(row=2, column=column).value = "=1+1"  # a real formula cell
    out = io.BytesIO()
    book.save(out)
    assert "formula" in _refused("glossary.xlsx", out.getvalue())


def test_corrupt_and_bomb_xlsx_are_refused(tmp_path: Path) -> None:
    assert "not a readable XLSX" in _refused("glossary.xlsx", b"PK\x03\x04 not really a zip")
    assert "not a readable XLSX" in _refused("glossary.xlsx", xlsx_bytes(small_glossary("one"))[:-200])
    bomb = io.BytesIO()
    real = zipfile.ZipFile(io.BytesIO(xlsx_bytes(small_glossary("one"))))  # one workbook (it is timestamped)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in real.infolist():
            archive.writestr(info, real.read(info))
        archive.writestr("xl/media/padding.xml", b" " * 200_000_000)  # 200 MB that compress to 200 KB
    assert len(bomb.getvalue()) < 1_000_000
    assert "expands to" in _refused("glossary.xlsx", bomb.getvalue())
