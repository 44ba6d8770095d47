"""Route dependencies: database session, the calling device, the calling admin, bounded JSON bodies."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from server import crud
from server.core.security import verify_password
from server.core.state import server_state
from server.tables import Admin, Device

_LOGGER = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
_basic = HTTPBasic(auto_error=False)

M = TypeVar("M", bound=BaseModel)


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routes commit what they change."""
    session = server_state(request).session_factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]


def get_device(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Device:
    """The enrolled, unrevoked device whose Bearer token this is (401 otherwise; 429 above its rate)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    device = crud.device_by_token(session=session, token=credentials.credentials)
    # End the read transaction now: on SQLite every transaction holds the write lock.
    session.commit()
    if device is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Invalid or revoked token", headers={"WWW-Authenticate": "Bearer"}
        )
    wait_s = server_state(request).device_limiter.retry_after_s(device.id)
    if wait_s > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many requests from this device",
            headers={"Retry-After": str(math.ceil(wait_s))},
        )
    return device


DeviceDep = Annotated[Device, Depends(get_device)]


def get_admin(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Admin:
    """The admin named by HTTP Basic credentials (401 otherwise).

    Browsers replay cached Basic credentials on cross-site requests, so a request that a browser
    marks as coming from another origin is refused (403): the admin API is for scripts, the
    console (with CSRF tokens) is for browsers.
    """
    origin = request.headers.get("origin")
    if request.headers.get("sec-fetch-site") == "cross-site" or (
        origin and urlsplit(origin).netloc != request.headers.get("host")
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-site request refused")
    admin = None
    if credentials is not None:
        candidate = crud.admin_by_name(session=session, username=credentials.username)
        # Release the database before the (deliberately slow) argon2 check.
        session.commit()
        if candidate is not None and verify_password(credentials.password, candidate.password_hash):
            admin = candidate
    if admin is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers={"WWW-Authenticate": "Basic"}
        )
    return admin


AdminDep = Annotated[Admin, Depends(get_admin)]


async def read_limited_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing more than ``max_bytes`` (413) without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "Payload too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "Payload too large")
        chunks.append(chunk)
    return b"".join(chunks)


def bounded_json(
    model: type[M], limit: Callable[[Request], int]
) -> Callable[[Request], Coroutine[Any, Any, M]]:
    """A dependency parsing the body as ``model`` with a size limit (413) and strict fields (422)."""

    async def dependency(request: Request) -> M:
        body = await read_limited_body(request, limit(request))
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from exc

    return dependency
