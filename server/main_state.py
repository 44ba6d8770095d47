"""Access to the prepared server state from a request (kept apart to avoid import cycles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from server.main import ServerState


def server_state(request: Request) -> ServerState:
    """The :class:`server.main.ServerState` of the running app."""
    return request.app.state.server  # type: ignore[no-any-return]
