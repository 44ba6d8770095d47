"""Optional memory trace of a test run: with ``MADOGUCHI_TEST_RSS_LOG=<file>``, every test appends its
node id, the process's resident memory after it and the peak so far (MB), one tab-separated line each
(one process per xdist worker, so lines carry the worker id).

    MADOGUCHI_TEST_RSS_LOG=/tmp/rss.tsv script/test
    sort -t$'\\t' -k4 -n /tmp/rss.tsv | tail     # the tests after which memory was highest
"""

from __future__ import annotations

import os
import resource

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


__all__ = ["LOG_ENV", "pytest_runtest_logfinish"]
