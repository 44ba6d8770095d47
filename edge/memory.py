"""Keep the device's resident memory low while engines load and run (glibc only; a no-op elsewhere).

Loading a model reads its file into temporary buffers and inference threads each grow their own malloc
arena; glibc keeps freed memory mapped unless asked to return it. Three levers keep the peak down:

- ``limit_malloc_arenas`` (once, at start): at most ``n`` arenas, so the encoder, decoder, VAD and voice
  threads share heaps instead of each keeping its own high-water mark;
- ``return_large_blocks`` (once, at start): blocks of at least 1 MiB (activations of the encoder, the
  decoder, the voice) are mapped on their own and unmapped when freed. glibc's default threshold rises
  to 32 MiB after the first large block is freed, after which such blocks stay in the heap: the recogniser's
  freed buffers were still resident while the voice synthesised (measured: peak 935 → 875 MB with ASR +
  an M2M-100-size MT + one voice);
- ``release_free_memory`` (after loading each engine, and after each turn): hand freed pages back to the
  system (``malloc_trim``).

``configure_malloc`` applies the first two.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

_LOGGER = logging.getLogger(__name__)

_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3

#: Blocks from this size on are mapped on their own (bytes).
LARGE_BLOCK = 1 << 20


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018 - glibc only
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(n: int = 2) -> bool:
    """Cap glibc's malloc arenas at ``n`` for threads created from now on; True when applied."""
    libc = _libc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(_M_ARENA_MAX, int(n)))
    _LOGGER.debug("malloc arenas capped at %d: %s", n, applied)
    return applied


def return_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Map blocks of at least ``threshold`` bytes on their own (returned to the system when freed) and
    stop glibc from raising that threshold; True when applied."""
    libc = _libc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))
    _LOGGER.debug("blocks from %d bytes mapped on their own: %s", threshold, applied)
    return applied


def configure_malloc(arenas: int = 2, threshold: int = LARGE_BLOCK) -> bool:
    """``limit_malloc_arenas`` and ``return_large_blocks``, once before the engines load; True when both
    applied."""
    return limit_malloc_arenas(arenas) & return_large_blocks(threshold)


def release_free_memory() -> bool:
    """Return freed heap memory to the system; True when some was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
