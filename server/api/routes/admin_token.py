"""Admin API tokens: log in once (HTTP Basic), then call the admin API with a short-lived bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server import crud
from server.api.deps import AdminDep, SessionDep
from server.core.state import server_state
from server.schemas import AdminTokenOut

admin_router = APIRouter(prefix="/admin", tags=["admin"])


@admin_router.post("/token")
def issue_token(request: Request, session: SessionDep, admin: AdminDep) -> AdminTokenOut:
    """A bearer token for the admin API, valid ``api_token_minutes`` (stored hashed, like sessions)."""
    minutes = server_state(request).settings.api_token_minutes
    row, token = crud.create_admin_session(session=session, admin=admin, hours=minutes / 60, kind="api")
    session.commit()
    return AdminTokenOut(token=token, token_type="bearer", expires_at=row.expires_at)


@admin_router.delete("/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    session: SessionDep,
    admin: AdminDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
) -> Response:
    """End the API token this request carries (a script's logout); 204 also when it used Basic."""
    if bearer is not None and bearer.credentials:
        row = crud.admin_session_by_token(session=session, token=bearer.credentials, kind="api")
        if row is not None:
            crud.end_admin_session(session=session, row=row)
            session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
