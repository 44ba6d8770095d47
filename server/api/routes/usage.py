"""Usage counters: devices post batches (counted once per device and batch id); admins read totals."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from contracts.fleet import UsageBatchIn, UsageBatchOut
from contracts.usage import USAGE_KINDS
from server import reports, usage_counts
from server.api.deps import AdminDep, DeviceDep, SessionDep, bounded_json
from server.core.state import server_state
from server.schemas import UsageTotal, UsageTotalsPublic
from server.tables import utcnow

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/usage", tags=["usage"])
admin_router = APIRouter(prefix="/admin/usage", tags=["admin"])

_usage_body = bounded_json(UsageBatchIn, lambda r: server_state(r).settings.usage_max_body_bytes)


@router.post("")
def post_usage(
    request: Request,
    session: SessionDep,
    device: DeviceDep,
    batch: UsageBatchIn = Depends(_usage_body),
) -> UsageBatchOut:
    """Count a batch once; a retried batch (same id) is acknowledged as a duplicate."""
    if len(batch.rows) > server_state(request).settings.usage_max_rows:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "Too many rows in one batch")
    accepted, duplicate = usage_counts.record_usage(session=session, device=device, batch=batch)
    session.commit()
    if duplicate:
        _LOGGER.debug("usage batch %s already counted", batch.batch_id)
    return UsageBatchOut(batch_id=batch.batch_id, accepted_rows=accepted, duplicate=duplicate)


@admin_router.get("/totals")
def totals(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    by_site: bool = False,
    by_week: bool = False,
    by_language: bool = False,
    weeks: Annotated[int, Query(ge=0, le=520)] = 0,
) -> UsageTotalsPublic:
    """Totals per kind and key (and site, week, resident language), cells under the threshold suppressed."""
    threshold = server_state(request).settings.suppress_below_turns
    since = (utcnow() - dt.timedelta(weeks=weeks)).date() if weeks > 0 else None
    rows = reports.totals(
        usage_counts.turn_rows(session=session, since=since),
        usage_counts.item_rows(session=session, kinds=USAGE_KINDS, since=since),
        threshold,
        by_site=by_site,
        by_week=by_week,
        by_language=by_language,
    )
    data = [UsageTotal(**asdict(row), suppressed=row.count is None) for row in rows]
    return UsageTotalsPublic(data=data, count=len(data), suppress_below=threshold)
