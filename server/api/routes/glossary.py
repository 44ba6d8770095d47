"""Glossary distribution (devices) and publishing (admins)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from contracts.fleet import GlossaryEnvelope
from glossary.signing import SignedStatement, sign_statement
from server import crud
from server.api.deps import AdminDep, DeviceDep, SessionDep
from server.core.state import server_state
from server.errors import ServerError
from server.glossary_ops import MAX_UPLOAD_BYTES, diff_glossaries, read_upload
from server.schemas import GlossaryVersionPublic, GlossaryVersionsPublic, PublishOut, RollbackIn

if TYPE_CHECKING:
    from server.core.state import ServerState

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/glossary", tags=["glossary"])
admin_router = APIRouter(prefix="/admin/glossary", tags=["admin"])


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def _expiry(days: int) -> str:
    """The signed expiry of statements served today: midnight UTC ``days`` days ahead (one ETag a day)."""
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/current", response_model=GlossaryEnvelope)
def current_glossary(request: Request, session: SessionDep, device: DeviceDep) -> Response:
    """The current glossary with a statement signed now, valid ``glossary_signature_days``; 304 when the
    device's ``If-None-Match`` is current (the ETag changes daily, so devices renew the expiry)."""
    row = crud.current_glossary(session=session)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No glossary published")
    state = server_state(request)
    expires_at = _expiry(state.settings.glossary_signature_days)
    etag = crud.etag_of(row)[:-1] + f"-{expires_at[:10]}" + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    statement = SignedStatement(row.version, row.number, row.published_at, row.sha256, expires_at)
    # The stored canonical JSON is sent as is: no re-serialisation between signing and the wire.
    head = json.dumps(
        {
            "version": row.version,
            "number": row.number,
            "published_at": row.published_at,
            "sha256": row.sha256,
            "expires_at": expires_at,
            "signature": sign_statement(state.signing_key, statement),
        },
        ensure_ascii=False,
    )
    body = head[:-1] + ',"glossary":' + row.content + "}"
    return Response(body.encode("utf-8"), media_type="application/json", headers=headers)


@admin_router.get("/versions")
def list_versions(session: SessionDep, admin: AdminDep) -> GlossaryVersionsPublic:
    """Every published version, newest first."""
    rows = crud.list_glossary_versions(session=session)
    return GlossaryVersionsPublic(
        data=[GlossaryVersionPublic.model_validate(r) for r in rows], count=len(rows)
    )


@admin_router.post("")
async def upload_glossary(
    request: Request,
    session: SessionDep,
    admin: AdminDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=200)] = "",
) -> PublishOut:
    """Validate an uploaded CSV/XLSX/JSON, diff it with the current version, and publish it."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    state = server_state(request)
    return await run_in_threadpool(
        _publish_upload, state, session, admin.username, file.filename or "upload", data, dry_run, note
    )


def _publish_upload(
    state: ServerState, session: Session, username: str, filename: str, data: bytes, dry_run: bool, note: str
) -> PublishOut:
    current_row = crud.current_glossary(session=session)
    current = crud.glossary_of(current_row) if current_row else None
    result = read_upload(filename, data, current)
    if result.glossary is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"message": "Glossary upload has errors", "problems": result.problems[:200]},
        )
    diff = diff_glossaries(current, result.glossary)
    if dry_run:
        return PublishOut(diff=diff, warnings=result.warnings)
    if current is not None and current.content_hash == result.glossary.content_hash:
        return PublishOut(diff=diff, warnings=[*result.warnings, "no change: nothing published"])
    row = crud.publish_glossary(
        session=session,
        glossary=result.glossary,
        signing_key=state.signing_key,
        published_by=username,
        note=note or f"upload {filename}",
    )
    session.commit()
    return PublishOut(
        diff=diff, warnings=result.warnings, published=GlossaryVersionPublic.model_validate(row)
    )


@admin_router.post("/rollback")
def rollback(
    request: Request, session: SessionDep, admin: AdminDep, body: RollbackIn
) -> GlossaryVersionPublic:
    """Publish the content of an older version again as a new, higher version."""
    try:
        row = crud.rollback_glossary(
            session=session,
            number=body.number,
            signing_key=server_state(request).signing_key,
            published_by=admin.username,
        )
    except ServerError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Glossary version not found") from exc
    session.commit()
    return GlossaryVersionPublic.model_validate(row)
