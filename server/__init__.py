"""The central server: signed glossary distribution, fleet heartbeats, usage counts, IT console.

Heavy names (FastAPI app, settings) load on first use, so importing ``server.errors`` (as the root
CLI does for every command) stays cheap and works without the server extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.errors import ServerConfigError, ServerError, SigningKeyError

if TYPE_CHECKING:
    from server.core.config import ServerSettings
    from server.core.state import ServerState, prepare
    from server.main import create_app

__all__ = [
    "ServerConfigError",
    "ServerError",
    "ServerSettings",
    "ServerState",
    "SigningKeyError",
    "create_app",
    "prepare",
]

_LAZY = {
    "ServerSettings": "server.core.config",
    "ServerState": "server.core.state",
    "create_app": "server.main",
    "prepare": "server.core.state",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'server' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
