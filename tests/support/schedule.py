"""The order modules run in on the xdist workers: the slow ones first, so the two workers end together.

``script/test`` runs ``--dist loadscope --no-loadscope-reorder``: a module is the unit of work and the
workers take modules in collection order. xdist's own reordering (most tests first) put the heavy
modules, which have few tests, last, so one worker ran a minute-long install test while the other sat
idle. Here modules with a test marked ``slow`` move to the front (a stable sort after pytest-randomly's
shuffle: the order within each group stays random and replayable with its seed); the many quick
modules then fill both workers' ends.
"""

from __future__ import annotations

import pytest


def _has_slow_test(items: list[pytest.Item]) -> set[str]:
    return {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow") is not None}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = _has_slow_test(items)
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)
