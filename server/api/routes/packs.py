"""Model packs for devices (signed manifests, files with HTTP Range) and their upload and status (admins)."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from contracts.fleet import PackManifestOut, PackOffersOut
from server import crud
from server.api.deps import AdminDep, DeviceDep, SessionDep
from server.core.security import private_dir
from server.core.state import server_state
from server.packs import (
    PackUploadError,
    StoredPack,
    load_pack_key,
    pack_file_path,
    store_pack,
    stored_rollback,
)
from server.schemas import DevicePackStatus, PackReleasePublic, PackStatusOut, pack_offer

if TYPE_CHECKING:
    from server.core.state import ServerState

_LOGGER = logging.getLogger(__name__)

router = APIRouter(prefix="/packs", tags=["packs"])
admin_router = APIRouter(prefix="/admin/packs", tags=["admin"])


def packs_root(request: Request) -> Path:
    """Where pack releases are stored (``<home>/packs``)."""
    return Path(server_state(request).settings.home) / "packs"


@router.get("")
def offers(session: SessionDep, device: DeviceDep) -> PackOffersOut:
    """The packs devices should hold (newest release of each pack id)."""
    data = [pack_offer(row) for row in crud.pack_offers(session=session, site_id=device.site_id)]
    return PackOffersOut(data=data, count=len(data))


@router.get("/{pack_id}/{version}/manifest")
def manifest(
    request: Request, pack_id: str, version: str, session: SessionDep, device: DeviceDep
) -> PackManifestOut:
    """The pack's ``pack.json``, the pack key's signature over it and a rollback statement to it, if any;
    404 unless the release is offered to the device's site (a held release looks like an unknown one)."""
    row = crud.offered_pack_release(session=session, pack_id=pack_id, version=version, site_id=device.site_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Pack not found")
    try:
        document = json.loads(row.signature)
        signature, signed_at = str(document["signature"]), str(document["signed_at"])
    except (ValueError, KeyError, TypeError):
        # a release stored before packs were signed offline: devices would refuse it anyway
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Pack not signed with the pack key") from None
    return PackManifestOut(
        pack=json.loads(row.manifest),
        signature=signature,
        signed_at=signed_at,
        rollback=stored_rollback(packs_root(request), pack_id, version),
    )


@router.get("/{pack_id}/{version}/files/{path:path}")
def file(
    request: Request, pack_id: str, version: str, path: str, session: SessionDep, device: DeviceDep
) -> FileResponse:
    """One file of a pack release offered to the device's site (else 404); ``Range: bytes=N-`` resumes
    an interrupted download (206)."""
    row = crud.offered_pack_release(session=session, pack_id=pack_id, version=version, site_id=device.site_id)
    session.commit()  # release the database before a long transfer
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Pack not found")
    found = pack_file_path(packs_root(request), pack_id, version, path, json.loads(row.manifest))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "File not found")
    return FileResponse(found, media_type="application/octet-stream")


@admin_router.post("", status_code=status.HTTP_201_CREATED)
async def upload(request: Request, admin: AdminDep, hold: bool | None = None) -> PackReleasePublic:
    """Upload a pack as a ``.tar``/``.tar.gz`` of its directory (with ``pack.json``); ``hold=true``
    offers it to no site until IT pushes it to sites from the console, ``hold=false`` to every site;
    without ``hold`` a new release is offered to every site and a re-upload keeps its offer.

    The body is a multipart form (field ``file``) or the tarball itself. It is read only after the
    admin's credentials were checked (the dependency above), and streamed to a file under the
    server's home, capped by ``max_pack_upload_bytes``.
    """
    state = server_state(request)
    root = packs_root(request)
    private_dir(root / ".incoming")
    with tempfile.TemporaryDirectory(prefix="upload-", dir=root / ".incoming") as tmp:
        local = Path(tmp) / "pack.tar"
        await _receive_pack(request, local)
        try:
            pack_key = load_pack_key(state.settings.resolved_pack_key_path)
            stored = await run_in_threadpool(store_pack, local, root, pack_key)
        except PackUploadError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    all_sites = None if hold is None else not hold
    return await run_in_threadpool(_record_release, state, stored, admin.username, all_sites)


async def _receive_pack(request: Request, local: Path) -> None:
    """Write the uploaded tarball to ``local`` chunk by chunk (multipart field ``file`` or raw body)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        try:
            upload = form.get("file")
            if not isinstance(upload, StarletteUploadFile):
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Send the pack as field 'file'")
            with local.open("wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out, 1 << 20)
        finally:
            await form.close()
        return
    with local.open("wb") as out:
        async for chunk in request.stream():
            out.write(chunk)


def _record_release(
    state: ServerState, stored: StoredPack, username: str, all_sites: bool | None
) -> PackReleasePublic:
    with state.session_factory() as session:
        row = crud.add_pack_release(session=session, stored=stored, uploaded_by=username, all_sites=all_sites)
        session.commit()
        return PackReleasePublic.from_row(row)


@admin_router.get("")
def pack_status(session: SessionDep, admin: AdminDep) -> PackStatusOut:
    """Every pack release, and per device which offered packs are installed and which are missing."""
    releases = [PackReleasePublic.from_row(row) for row in crud.list_pack_releases(session=session)]
    devices = []
    for device in crud.list_devices(session=session):
        if device.revoked_at is not None:
            continue
        installed = sorted(json.loads(device.pack_ids or "[]"))
        offered = [row.pack_id for row in crud.pack_offers(session=session, site_id=device.site_id)]
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
