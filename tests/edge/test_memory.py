"""Freed heap memory goes back to the system (``edge.memory``; glibc)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from edge.memory import limit_malloc_arenas, release_free_memory


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_freed_heap_is_returned() -> None:
    assert limit_malloc_arenas(2) is True
    blocks = [bytearray(2000) for _ in range(60_000)]  # ~120 MB of small heap blocks
    keep = blocks[-1]  # one block at the top of the heap keeps glibc from shrinking it by itself
    del blocks
    gc.collect()
    before = _rss_mb()
    assert release_free_memory() is True
    assert _rss_mb() < before - 50
    assert keep


_LARGE_BLOCKS = """
import gc, sys
from pathlib import Path
import numpy as np
from edge.memory import configure_malloc

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0

if sys.argv[1] == "on":
    assert configure_malloc()
big = np.ones(1 << 20)
del big  # 8 MB freed: glibc's default now keeps blocks up to that size in the heap
before = rss()
buffers, small = [], []
for _ in range(40):
    buffers.append(np.ones(1 << 18))  # 2 MB, touched
    small.append(bytearray(4096))  # heap blocks between them keep the heap from shrinking
grown = rss()
del buffers
gc.collect()
print(round(grown - before), round(grown - rss()))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_large_blocks_go_back_when_freed_without_a_trim() -> None:
    """With ``configure_malloc`` (in a fresh process, as the device starts) freed 2 MB buffers leave the
    process at once, even after glibc has seen a large block freed, which by default moves such blocks
    into the heap where they stay until a trim."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _LARGE_BLOCKS, "on"], capture_output=True, text=True, check=True, timeout=120
    )
    grown, dropped = (int(x) for x in out.stdout.split())
    assert grown > 60 and dropped > grown - 10
