"""Usage counters on the server: folded at ingest to what the dashboard shows, delivered once.

A device sends counters per day × language pair × direction × kind × key (see README, "What a
device sends"). The server keeps none of that detail: in the transaction that records a batch it
folds the rows into

- turns per site × ISO week × resident language (``usage_turns``), and
- every other counter per site × ISO week × kind × key (``usage_items``: term and phrase ids,
  term fallbacks, latency buckets, language-id mismatches, flagged turns),

so the database never holds a device, a day or a direction next to a count. Small cells are
suppressed on the way out (``server.reports``).

Exactly once: the (device, batch id) row and the counters are one transaction; a retried batch
finds its id taken and counts nothing. Batch ids are per device, so one device cannot spend
another's ids.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.fleet import UsageBatchIn
from server.errors import ServerError
from server.tables import Device, Site, UsageBatch, UsageItem, UsageTurns, utcnow

_LOGGER = logging.getLogger(__name__)

#: (site, week monday, language, turns)
TurnRowT = tuple[str, dt.date, str, int]
#: (site, week monday, kind, key, count)
ItemRowT = tuple[str, dt.date, str, str, int]


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def resident_language(source: str, target: str) -> str:
    """The resident's side of a pair (the side that is not the clerk's Japanese)."""
    return target if source == "ja" else source


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ServerError(f"usage counters need SQLite or PostgreSQL, not {dialect}")


def fold_batch(batch: UsageBatchIn) -> tuple[Counter[tuple[dt.date, str]], Counter[tuple[dt.date, str, str]]]:
    """A batch's rows as (week, language) turn counts and (week, kind, key) counts."""
    turns: Counter[tuple[dt.date, str]] = Counter()
    items: Counter[tuple[dt.date, str, str]] = Counter()
    for row in batch.rows:
        week = week_start(row.day)
        if row.kind == "turn":
            turns[(week, resident_language(row.source, row.target))] += row.count
        else:
            items[(week, row.kind, row.key)] += row.count
    return turns, items


def record_usage(*, session: Session, device: Device, batch: UsageBatchIn) -> tuple[int, bool]:
    """Add a batch's counters once; returns (cells added to, duplicate?).

    The batch row and the counters are one transaction: a batch either counts fully, or not at
    all and the device retries with the same id.
    """
    insert = _insert(session)
    # RETURNING tells whether this transaction claimed the id (rowcount is not reliable for
    # ON CONFLICT DO NOTHING across drivers); a concurrent claim of the same id waits on the key.
    claimed = session.execute(
        insert(UsageBatch)
        .values(device_id=device.id, batch_id=str(batch.batch_id), received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["device_id", "batch_id"])
        .returning(UsageBatch.batch_id)
    ).first()
    if claimed is None:
        return 0, True
    turns, items = fold_batch(batch)
    site = device.site_id
    # Sorted: concurrent batches of one site lock the shared rows in the same order (no deadlock).
    turn_values = [
        {"site_id": site, "week": week, "language": language, "turns": n}
        for (week, language), n in sorted(turns.items())
    ]
    item_values = [
        {"site_id": site, "week": week, "kind": kind, "key": key, "count": n}
        for (week, kind, key), n in sorted(items.items())
    ]
    if turn_values:
        statement = insert(UsageTurns).values(turn_values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["site_id", "week", "language"],
                set_={"turns": UsageTurns.turns + statement.excluded.turns},
            )
        )
    if item_values:
        statement = insert(UsageItem).values(item_values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["site_id", "week", "kind", "key"],
                set_={"count": UsageItem.count + statement.excluded.count},
            )
        )
    device.last_seen_at = utcnow()
    return len(turn_values) + len(item_values), False


def turn_rows(*, session: Session, since: dt.date | None = None) -> list[TurnRowT]:
    """Stored turn cells: (site, week, language, turns)."""
    query = select(Site.name, UsageTurns.week, UsageTurns.language, UsageTurns.turns).join(
        Site, Site.id == UsageTurns.site_id
    )
    if since is not None:
        query = query.where(UsageTurns.week >= week_start(since))
    return [(r[0], r[1], r[2], int(r[3])) for r in session.execute(query).all()]


def item_rows(*, session: Session, kinds: Iterable[str], since: dt.date | None = None) -> list[ItemRowT]:
    """Stored counter cells of ``kinds``: (site, week, kind, key, count)."""
    query = (
        select(Site.name, UsageItem.week, UsageItem.kind, UsageItem.key, func.sum(UsageItem.count))
        .join(Site, Site.id == UsageItem.site_id)
        .where(UsageItem.kind.in_(list(kinds)))
        .group_by(Site.name, UsageItem.week, UsageItem.kind, UsageItem.key)
    )
    if since is not None:
        query = query.where(UsageItem.week >= week_start(since))
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in session.execute(query).all()]
