"""The ``/api/v1`` router: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from server.api.routes import admin_token, devices, glossary, packs, usage, utils

api_router = APIRouter()
api_router.include_router(utils.router)
api_router.include_router(glossary.router)
api_router.include_router(devices.router)
api_router.include_router(usage.router)
api_router.include_router(packs.router)
api_router.include_router(glossary.admin_router)
api_router.include_router(devices.admin_router)
api_router.include_router(usage.admin_router)
api_router.include_router(packs.admin_router)
api_router.include_router(admin_token.admin_router)
