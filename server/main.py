"""The central server application: ``create_app(settings)``.

The start-up work (``prepare``) and the shared state live in ``server.core.state``; this module only
assembles the app: middleware, the ``/api/v1`` router and the console.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.api.main import api_router
from server.api.routes import console
from server.core.config import ServerSettings
from server.core.limits import MaxBodySize
from server.core.state import ServerState, prepare

__all__ = ["ServerState", "app_from_env", "create_app", "prepare"]


def create_app(settings: ServerSettings | None = None, state: ServerState | None = None) -> FastAPI:
    """Build the FastAPI app (runs :func:`prepare` unless a prepared ``state`` is given)."""
    state = state or prepare(settings or ServerSettings())
    app = FastAPI(title="madoguchi server", version="1", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = state
    app.add_middleware(
        MaxBodySize,
        max_bytes=state.settings.max_request_bytes,
        streamed={"/api/v1/admin/packs": state.settings.max_pack_upload_bytes},
    )
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(console.router)
    console.install(app)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: ``uvicorn --factory server.main:app_from_env`` (settings from the environment)."""
    return create_app(ServerSettings())
