"""The central server's HTTP API: its version prefix and the paths devices call."""

from __future__ import annotations

from typing import Final

API_VERSION: Final = 1
API_PREFIX: Final = f"/api/v{API_VERSION}"

HEALTH: Final = f"{API_PREFIX}/health"
HEARTBEAT: Final = f"{API_PREFIX}/heartbeat"
USAGE: Final = f"{API_PREFIX}/usage"
GLOSSARY_CURRENT: Final = f"{API_PREFIX}/glossary/current"
PACKS: Final = f"{API_PREFIX}/packs"
