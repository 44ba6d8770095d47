"""Child of the audio tests: decode one file with ``edge.audio.decode.load_audio`` and report peak RSS growth.

Usage: ``python rel_audio_child.py FILE``. Prints one JSON line: the outcome (``ok`` with the sample
count, or the error class and message) and ``rss_growth_mb``, the highest resident memory seen while
decoding (sampled every 5 ms) minus the memory before.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import psutil


def main(path: Path) -> None:
    from edge.audio.decode import load_audio
    from edge.errors import EdgeError

    process = psutil.Process()
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        audio = load_audio(path)
        outcome = {"ok": True, "samples": int(audio.size), "finite": bool((abs(audio) <= 1.0001).all())}
    except EdgeError as exc:
        outcome = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    done.set()
    sampler.join()
    peak = max(peak, process.memory_info().rss)
    outcome["rss_growth_mb"] = (peak - before) / 2**20
    sys.stdout.write(json.dumps(outcome) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
