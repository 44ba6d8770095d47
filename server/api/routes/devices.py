"""Device heartbeat (devices) and the fleet: enroll, revoke, list (admins)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status

from contracts.fleet import HeartbeatIn, HeartbeatOut
from server import crud
from server.api.deps import MAX_ROW_ID, AdminDep, DeviceDep, SessionDep, bounded_json
from server.core.state import server_state
from server.errors import ServerError
from server.schemas import DevicePublic, DevicesPublic, EnrollIn, EnrollOut, pack_offer
from server.tables import Device, utcnow

_LOGGER = logging.getLogger(__name__)

router = APIRouter(tags=["devices"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])

_heartbeat_body = bounded_json(HeartbeatIn, lambda r: server_state(r).settings.heartbeat_max_body_bytes)


def device_public(
    device: Device, *, stale_after_hours: float, now: dt.datetime | None = None
) -> DevicePublic:
    """The fleet view of one device; stale when not seen for ``stale_after_hours``."""
    now = now or utcnow()
    seen = device.last_seen_at
    return DevicePublic(
        id=device.id,
        site=device.site.name,
        name=device.name,
        created_at=device.created_at,
        revoked=device.revoked_at is not None,
        last_seen_at=seen,
        stale=seen is None or now - seen > dt.timedelta(hours=stale_after_hours),
        app_version=device.app_version,
        glossary_version=device.glossary_version,
        glossary_number=device.glossary_number,
        pack_ids=json.loads(device.pack_ids or "[]"),
        free_disk_bytes=device.free_disk_bytes,
        last_error_code=device.last_error_code,
    )


@router.post("/heartbeat")
def heartbeat(
    session: SessionDep, device: DeviceDep, body: HeartbeatIn = Depends(_heartbeat_body)
) -> HeartbeatOut:
    """Record the device's state; reply with the server time and the packs it should install."""
    crud.record_heartbeat(session=session, device=device, heartbeat=body)
    offers = [pack_offer(row) for row in crud.pack_offers(session=session, site_id=device.site_id)]
    session.commit()
    wanted = [offer.id for offer in offers if offer.id not in set(body.pack_ids)]
    return HeartbeatOut(server_time=utcnow(), wanted_packs=wanted, pack_offers=offers)


@admin_router.get("/fleet")
def fleet(request: Request, session: SessionDep, admin: AdminDep) -> DevicesPublic:
    """Every device with its last heartbeat."""
    hours = server_state(request).settings.stale_after_hours
    data = [device_public(d, stale_after_hours=hours) for d in crud.list_devices(session=session)]
    return DevicesPublic(data=data, count=len(data))


@admin_router.post("/devices")
def enroll(request: Request, session: SessionDep, admin: AdminDep, body: EnrollIn) -> EnrollOut:
    """Enroll a device; the token is in this reply only."""
    try:
        device, token = crud.enroll_device(session=session, site_name=body.site, device_name=body.device)
    except ServerError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "Device already enrolled") from exc
    session.commit()
    hours = server_state(request).settings.stale_after_hours
    return EnrollOut(device=device_public(device, stale_after_hours=hours), token=token)


@admin_router.post("/devices/{device_id}/revoke")
def revoke(
    request: Request,
    device_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    session: SessionDep,
    admin: AdminDep,
) -> DevicePublic:
    """Revoke a device's token."""
    if session.get(Device, device_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Device not found")
    device = crud.revoke_device(session=session, ref=str(device_id))
    session.commit()
    return device_public(device, stale_after_hours=server_state(request).settings.stale_after_hours)
