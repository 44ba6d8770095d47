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
from server.core.logins import LoginBusy, LoginThrottled
from server.core.state import server_state
from server.tables import Admin, Device

_LOGGER = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
_basic = HTTPBasic(auto_error=False)

M = TypeVar("M", bound=BaseModel)

#: The largest row id a path, query or form may name: a database INTEGER (larger ones are 422, not 500).
MAX_ROW_ID = 2**31 - 1


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


def client_address(request: Request) -> str:
    """The peer address login throttling counts failures against."""
    return request.client.host if request.client else "unknown"


def check_admin_password(request: Request, session: Session, username: str, password: str) -> Admin | None:
    """The admin if the password is right, else None; throttled (429) and bounded (503).

    An unknown name costs the same argon2 check as a known one (a dummy hash), so the reply time
    does not tell which admins exist.
    """
    candidate = crud.admin_by_name(session=session, username=username)
    # Release the database before the (deliberately slow) argon2 check.
    session.commit()
    guard = server_state(request).logins
    password_hash = candidate.password_hash if candidate is not None else None
    try:
        ok = guard.check(username, password, password_hash, client_address(request))
    except LoginThrottled as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many failed logins; try again later",
            headers={"Retry-After": exc.retry_after},
        ) from exc
    except LoginBusy as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "Login checks are busy", headers={"Retry-After": "5"}
        ) from exc
    return candidate if ok else None


def get_admin(
    request: Request,
    session: SessionDep,
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Admin:
    """The admin named by an API token (``Bearer``, from ``POST /admin/token``) or HTTP Basic (401 otherwise).

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
    if bearer is not None and bearer.scheme.lower() == "bearer" and bearer.credentials:
        row = crud.admin_session_by_token(session=session, token=bearer.credentials, kind="api")
        admin = row.admin if row is not None else None
        session.commit()
    elif basic is not None:
        admin = check_admin_password(request, session, basic.username, basic.password)
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
