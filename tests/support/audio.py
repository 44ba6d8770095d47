"""Audio files the tests write themselves (formats the product's own writer does not make)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def write_float_wav(path: Path, samples: np.ndarray, sample_rate: int = 16000) -> None:
    """A 32-bit float mono WAV (the stdlib ``wave`` module writes PCM only); NaN and inf stay as given."""
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 3, 1, sample_rate, sample_rate * 4, 4, 32)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt + b"data"
    path.write_bytes(header + struct.pack("<I", len(data)) + data)
