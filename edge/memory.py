"""Keep the device's resident memory low while engines load and run (glibc only; a no-op elsewhere).

Loading a model reads its file into temporary buffers and inference threads each grow their own malloc
arena; glibc keeps freed memory mapped unless asked to return it. Two calls keep the peak down:

- ``limit_malloc_arenas`` (once, at start): at most ``n`` arenas, so the encoder, decoder, VAD and voice
  threads share heaps instead of each keeping its own high-water mark;
- ``release_free_memory`` (after loading each engine, and between turns): hand freed pages back to the
  system (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

_LOGGER = logging.getLogger(__name__)

_M_ARENA_MAX = -8


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


def release_free_memory() -> bool:
    """Return freed heap memory to the system; True when some was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
