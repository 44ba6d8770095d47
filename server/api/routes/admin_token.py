"""Admin API tokens: log in once (HTTP Basic), then call the admin API with a short-lived bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request

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
