"""Memory of a test process: what a finished test module held is released, and an optional trace.

Release: after the last test of a module (its module fixtures torn down and the test's arguments
dropped) FastAPI's endpoint caches are emptied, the garbage collector runs and glibc hands the freed
pages back (``edge.memory``, as the counter does between turns). FastAPI keeps every endpoint function
it has classified in module-level ``lru_cache``s (4096 entries each); the counter's endpoints are
closures over its service, so each app a test builds would keep its pipeline and models alive for the
rest of the run (a deployed process builds one app, a test process hundreds). Without the release every
module that loads a model of its own leaves the process 100-350 MB larger, and a worker that runs many
such modules grows past the suite's memory budget.

Trace: with ``MADOGUCHI_TEST_RSS_LOG=<file>``, every test appends its node id, the process's resident
memory after it and the peak so far (MB), one tab-separated line each (one process per xdist worker, so
lines carry the worker id; ``main`` is the controller).

    MADOGUCHI_TEST_RSS_LOG=/tmp/rss.tsv script/test
    sort -t$'\\t' -k4 -n /tmp/rss.tsv | tail     # the tests after which memory was highest
"""

from __future__ import annotations

import functools
import gc
import os
import resource
import sys
from collections.abc import Iterator

import pytest

from edge.memory import release_free_memory

LOG_ENV = "MADOGUCHI_TEST_RSS_LOG"


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pytest_runtest_logfinish(nodeid: str, location: tuple) -> None:
    """Append this test's line to the log (nothing when the variable is unset)."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{worker}\t{nodeid}\t{_rss_mb():.0f}\t{peak:.0f}\n")


def clear_framework_caches() -> int:
    """Empty the ``lru_cache``s of the loaded FastAPI modules (they only hold what they can recompute);
    returns how many caches were cleared."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "fastapi" or name.startswith("fastapi.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()
                cleared += 1
    return cleared


def release_module_memory() -> None:
    """Drop what a finished module's apps left in framework caches, collect what became unreachable and
    return freed heap pages to the system."""
    clear_framework_caches()
    gc.collect()
    release_free_memory()


#: A module that left the process more than this much larger (MB) is released after its last test
#: (a full collection costs 0.2-0.6 s in a process with the dictionaries loaded; most modules grow none).
RELEASE_ABOVE_MB = 16.0
_module_start: dict[str, float] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a module's last test (pytest has dropped its arguments by then), release its memory."""
    _module_start.setdefault(str(item.path), _rss_mb())
    result = yield
    last_of_module = nextitem is None or nextitem.path != item.path
    if last_of_module and _rss_mb() - _module_start.pop(str(item.path)) > RELEASE_ABOVE_MB:
        release_module_memory()
    return result


__all__ = [
    "LOG_ENV",
    "clear_framework_caches",
    "pytest_runtest_logfinish",
    "pytest_runtest_protocol",
    "release_module_memory",
]
