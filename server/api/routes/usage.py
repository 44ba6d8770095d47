"""Usage counters: devices post batches (idempotent by batch id); admins read totals."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request, status

from glossary.usage import USAGE_KINDS
from server import crud
from server.api.deps import AdminDep, DeviceDep, SessionDep, bounded_json
from server.core.state import server_state
from server.schemas import UsageBatchIn, UsageBatchOut, UsageTotal, UsageTotalsPublic

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
    accepted, duplicate = crud.record_usage(session=session, device=device, batch=batch)
    session.commit()
    if duplicate:
        _LOGGER.debug("usage batch %s already counted", batch.batch_id)
    return UsageBatchOut(batch_id=batch.batch_id, accepted_rows=accepted, duplicate=duplicate)


@admin_router.get("/totals")
def totals(session: SessionDep, admin: AdminDep, by_site: bool = False) -> UsageTotalsPublic:
    """Raw totals per kind and key (and site), unsuppressed: for IT checks, not for publication."""
    merged: dict[tuple[str | None, str, str], int] = {}
    for site, _day, _src, _tgt, _dir, kind, key, count in crud.usage_rows(session=session, kinds=USAGE_KINDS):
        cell = (site if by_site else None, kind, key)
        merged[cell] = merged.get(cell, 0) + count
    data = [
        UsageTotal(site=site, kind=kind, key=key, count=count)
        for (site, kind, key), count in sorted(merged.items(), key=lambda item: tuple(map(str, item[0])))
    ]
    return UsageTotalsPublic(data=data, count=len(data))
