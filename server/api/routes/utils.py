"""Health check."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from contracts.fleet import Health
from server import crud
from server.api.deps import SessionDep

router = APIRouter(tags=["utils"])


@router.get("/health")
def health(session: SessionDep) -> Health:
    """The server answers and its database too."""
    session.execute(text("SELECT 1"))
    current = crud.current_glossary(session=session)
    return Health(status="ok", database="ok", glossary_number=current.number if current else None)
