"""The usage-counter vocabulary that devices send and the server counts.

Design decisions:

- A counter is a *cell* (day, source, target, direction, kind, key) plus a count. Kinds, directions
  and duration buckets are closed lists, and keys are ids, so no field can carry a resident's words.
- The device (``edge.sync.outbox``) and the server (``server.crud``, ``contracts.fleet``) both import
  this module: it is part of the wire contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, get_args

Direction = Literal["to_resident", "to_staff"]
UsageKind = Literal["turn", "term", "term_fallback", "phrase", "duration", "langid_mismatch", "flagged"]
USAGE_KINDS: Final[tuple[str, ...]] = get_args(UsageKind)

#: The fields that name one counter cell, in key order.
CELL_FIELDS: Final[tuple[str, ...]] = ("day", "source", "target", "direction", "kind", "key")

#: End-of-speech → first output, bucketed so a duration never identifies a turn: (upper bound in
#: seconds, label), ascending.
DURATION_BUCKETS: Final[tuple[tuple[float, str], ...]] = (
    (1.0, "lt1s"),
    (2.0, "1to2s"),
    (3.0, "2to3s"),
    (5.0, "3to5s"),
    (10.0, "5to10s"),
    (float("inf"), "ge10s"),
)
DURATION_LABELS: Final[tuple[str, ...]] = tuple(label for _, label in DURATION_BUCKETS)

#: Language codes (``ja``, ``pt``, ``ja-easy``): a closed shape, not free text.
LANGUAGE_CODE_PATTERN: Final = r"^[a-z]{2,3}(-[a-z]{2,8})?$"
#: Term and phrase ids look like ``res.juminhyo_copy``.
ITEM_ID_PATTERN: Final = r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$"


def cell_row(cell: Sequence[Any], count: int) -> dict[str, Any]:
    """The wire form of one counter: ``cell`` in :data:`CELL_FIELDS` order plus its ``count``."""
    return {**dict(zip(CELL_FIELDS, cell, strict=True)), "count": count}
