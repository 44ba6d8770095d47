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
