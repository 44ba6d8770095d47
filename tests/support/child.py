"""Run a model test's heavy work in a child process, so the test process does not keep what it loaded.

Some engines cannot give their memory back to a process once loaded: Kokoro's Mandarin phonemizer
keeps jieba's and pypinyin's dictionaries in module globals, and onnxruntime keeps its arenas mapped.
A test of such an engine calls ``run_in_child(function, ...)``: ``function`` (a module-level function
of the test module) runs in a fresh interpreter (``spawn``: no inherited threads or locks, the same
``sys.path`` and environment) and returns plain data; the test asserts on that data in the test process,
so pytest's assertion messages stay. An exception in the child is raised in the test with the child's
traceback attached. The child exits when the call returns, and its memory goes with it.

The file guard (``tests.support.guard``) does not watch the child; ``.ci/run`` does (a clone with
nothing beside it).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_child(function: Callable[..., T], *args: Any, timeout: float = 600) -> T:
    """``function(*args)`` in a new Python process; its (picklable) result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result(timeout=timeout)


__all__ = ["run_in_child"]
