"""Model packs for devices (signed manifests, files with HTTP Range) and their upload and status (admins)."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse

from server import crud
from server.api.deps import AdminDep, DeviceDep, SessionDep
from server.core.state import server_state
from server.packs import PackUploadError, pack_file_path, store_pack
from server.schemas import (
    DevicePackStatus,
    PackManifestOut,
    PackOffer,
    PackOffersOut,
    PackReleasePublic,
    PackStatusOut,
)

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/packs", tags=["packs"])
admin_router = APIRouter(prefix="/admin/packs", tags=["admin"])


def packs_root(request: Request) -> Path:
    """Where pack releases are stored (``<home>/packs``)."""
    return Path(server_state(request).settings.home) / "packs"


@router.get("")
def offers(session: SessionDep, device: DeviceDep) -> PackOffersOut:
    """The packs devices should hold (newest release of each pack id)."""
    data = [PackOffer.from_row(row) for row in crud.pack_offers(session=session)]
    return PackOffersOut(data=data, count=len(data))


@router.get("/{pack_id}/{version}/manifest")
def manifest(pack_id: str, version: str, session: SessionDep, device: DeviceDep) -> PackManifestOut:
    """The pack's ``pack.json`` and the server's signature over it."""
    row = crud.pack_release(session=session, pack_id=pack_id, version=version)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Pack not found")
    return PackManifestOut(pack=json.loads(row.manifest), signature=row.signature)


@router.get("/{pack_id}/{version}/files/{path:path}")
def file(
    request: Request, pack_id: str, version: str, path: str, session: SessionDep, device: DeviceDep
) -> FileResponse:
    """One file of a pack release; ``Range: bytes=N-`` resumes an interrupted download (206)."""
    row = crud.pack_release(session=session, pack_id=pack_id, version=version)
    session.commit()  # release the database before a long transfer
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Pack not found")
    found = pack_file_path(packs_root(request), pack_id, version, path, json.loads(row.manifest))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "File not found")
    return FileResponse(found, media_type="application/octet-stream")


@admin_router.post("", status_code=status.HTTP_201_CREATED)
def upload(request: Request, session: SessionDep, admin: AdminDep, file: UploadFile) -> PackReleasePublic:
    """Upload a pack as a ``.tar``/``.tar.gz`` of its directory (with ``pack.json``)."""
    state = server_state(request)
    with tempfile.TemporaryDirectory(prefix="madoguchi-upload-") as tmp:
        local = Path(tmp) / "pack.tar"
        with local.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            stored = store_pack(local, packs_root(request), state.signing_key)
        except PackUploadError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    row = crud.add_pack_release(session=session, stored=stored, uploaded_by=admin.username)
    session.commit()
    return PackReleasePublic.from_row(row)


@admin_router.get("")
def pack_status(session: SessionDep, admin: AdminDep) -> PackStatusOut:
    """Every pack release, and per device which offered packs are installed and which are missing."""
    releases = [PackReleasePublic.from_row(row) for row in crud.list_pack_releases(session=session)]
    offered = [row.pack_id for row in crud.pack_offers(session=session)]
    devices = []
    for device in crud.list_devices(session=session):
        if device.revoked_at is not None:
            continue
        installed = sorted(json.loads(device.pack_ids or "[]"))
        devices.append(
            DevicePackStatus(
                site=device.site.name,
                name=device.name,
                installed=installed,
                missing=sorted(set(offered) - set(installed)),
                last_seen_at=device.last_seen_at,
            )
        )
    return PackStatusOut(releases=releases, devices=devices)
