"""Data access: small keyword-only functions over a session (the caller commits)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contracts.fleet import HeartbeatIn
from glossary import Glossary
from glossary.signing import SignedStatement, canonical_bytes, content_sha256, sign_statement
from server.core.security import PasswordPolicy, hash_password, hash_token, new_token
from server.errors import ServerError
from server.packs import StoredPack
from server.tables import (
    Admin,
    AdminSession,
    Device,
    GlossaryVersion,
    PackRelease,
    PendingUpload,
    Site,
    SitePackOffer,
    utcnow,
)

_LOGGER = logging.getLogger(__name__)

# --- sites and devices ---------------------------------------------------------------------------


def get_or_create_site(*, session: Session, name: str) -> Site:
    """Return the site called ``name``, creating it when new."""
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name)
        session.add(site)
        session.flush()
    return site


def list_sites(*, session: Session) -> Sequence[Site]:
    return session.scalars(select(Site).order_by(Site.name)).all()


def enroll_device(*, session: Session, site_name: str, device_name: str) -> tuple[Device, str]:
    """Enroll a device (or re-enroll a revoked one) and return it with its new token.

    Raises:
        ServerError: an active device with that name already exists at the site.
    """
    site = get_or_create_site(session=session, name=site_name)
    token = new_token()
    device = session.scalar(select(Device).where(Device.site_id == site.id, Device.name == device_name))
    if device is not None:
        if device.revoked_at is None:
            raise ServerError(
                f"device {site_name}/{device_name} is already enrolled "
                f"(run: madoguchi server revoke {site_name}/{device_name} to replace its token)"
            )
        device.revoked_at = None
        device.token_hash = hash_token(token)
    else:
        device = Device(site_id=site.id, name=device_name, token_hash=hash_token(token), pack_ids="[]")
        session.add(device)
    session.flush()
    _LOGGER.info("enrolled device %s/%s", site_name, device_name)
    return device, token


def device_by_token(*, session: Session, token: str) -> Device | None:
    """The active (not revoked) device holding ``token``, else None."""
    device = session.scalar(select(Device).where(Device.token_hash == hash_token(token)))
    if device is None or device.revoked_at is not None:
        return None
    return device


def list_devices(*, session: Session) -> Sequence[Device]:
    """Every device with its site, ordered by site then name."""
    return session.scalars(select(Device).join(Site).order_by(Site.name, Device.name)).all()


def find_device(*, session: Session, ref: str) -> Device:
    """Find a device by id, ``site/name`` or a unique name.

    Raises:
        ServerError: no device or several devices match.
    """
    if ref.isdigit():
        device = session.get(Device, int(ref))
        if device is not None:
            return device
    if "/" in ref:
        site_name, device_name = ref.split("/", 1)
        query = select(Device).join(Site).where(Site.name == site_name, Device.name == device_name)
    else:
        query = select(Device).where(Device.name == ref)
    matches = session.scalars(query).all()
    if not matches:
        raise ServerError(f"no device {ref!r} (run: madoguchi server devices)")
    if len(matches) > 1:
        raise ServerError(f"several devices are called {ref!r}: name it as SITE/DEVICE")
    return matches[0]


def revoke_device(*, session: Session, ref: str) -> Device:
    """Revoke a device's token; its next request gets 401."""
    device = find_device(session=session, ref=ref)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
    _LOGGER.info("revoked device %s/%s", device.site.name, device.name)
    return device


def record_heartbeat(*, session: Session, device: Device, heartbeat: HeartbeatIn) -> None:
    """Store what the device reports and when it was seen."""
    device.last_seen_at = utcnow()
    device.app_version = heartbeat.app_version
    device.glossary_version = heartbeat.glossary_version
    device.glossary_number = heartbeat.glossary_number
    device.pack_ids = json.dumps(sorted(heartbeat.pack_ids))
    device.packs = json.dumps([pack.model_dump() for pack in heartbeat.packs], ensure_ascii=False)
    device.languages = json.dumps(heartbeat.languages)
    device.free_disk_bytes = heartbeat.free_disk_bytes
    device.last_error_code = heartbeat.last_error_code


# --- glossary versions ---------------------------------------------------------------------------


def current_glossary(*, session: Session) -> GlossaryVersion | None:
    """The newest published version (highest number), else None."""
    return session.scalar(select(GlossaryVersion).order_by(GlossaryVersion.number.desc()).limit(1))


def glossary_version(*, session: Session, number: int) -> GlossaryVersion | None:
    """The version with that number, else None."""
    return session.scalar(select(GlossaryVersion).where(GlossaryVersion.number == number))


def list_glossary_versions(*, session: Session) -> Sequence[GlossaryVersion]:
    """Every version, newest first."""
    return session.scalars(select(GlossaryVersion).order_by(GlossaryVersion.number.desc())).all()


def _iso_now() -> str:
    return utcnow().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def publish_glossary(
    *,
    session: Session,
    glossary: Glossary,
    signing_key: Ed25519PrivateKey,
    published_by: str,
    note: str = "",
) -> GlossaryVersion:
    """Publish ``glossary`` as the next version number, signed by ``signing_key``."""
    last = current_glossary(session=session)
    number = (last.number if last else 0) + 1
    published_at = _iso_now()
    version = f"v{number}-{glossary.content_hash[:12]}"
    glossary_dict = glossary.with_version(version, created_at=published_at).to_dict()
    statement = SignedStatement(
        version=version, number=number, published_at=published_at, sha256=content_sha256(glossary_dict)
    )
    row = GlossaryVersion(
        number=number,
        version=version,
        sha256=statement.sha256,
        content=canonical_bytes(glossary_dict).decode("utf-8"),
        signature=sign_statement(signing_key, statement),
        published_at=published_at,
        published_by=published_by[:100],
        note=note[:200],
        term_count=len(glossary.terms),
        phrase_count=len(glossary.phrases),
    )
    session.add(row)
    session.flush()
    _LOGGER.info("published glossary %s (%d terms, %d phrases)", version, row.term_count, row.phrase_count)
    return row


def rollback_glossary(
    *, session: Session, number: int, signing_key: Ed25519PrivateKey, published_by: str
) -> GlossaryVersion:
    """Publish the content of version ``number`` again, as a new (higher) version.

    Devices only move forward, so a rollback is a new version with old content.

    Raises:
        ServerError: there is no version ``number``.
    """
    old = glossary_version(session=session, number=number)
    if old is None:
        raise ServerError(f"no glossary version {number} (run: madoguchi server versions)")
    return publish_glossary(
        session=session,
        glossary=glossary_of(old),
        signing_key=signing_key,
        published_by=published_by,
        note=f"rollback to v{number}",
    )


def glossary_of(row: GlossaryVersion) -> Glossary:
    """The Glossary object stored in a version row."""
    return Glossary.from_json(row.content)


def etag_of(row: GlossaryVersion) -> str:
    """Strong ETag of a version: its number and content hash."""
    return f'"{row.number}-{row.sha256[:32]}"'


# --- admins and console sessions -----------------------------------------------------------------


def create_admin(
    *, session: Session, username: str, password: str, policy: PasswordPolicy | None = None
) -> Admin:
    """Create an admin, or set the password of an existing one."""
    if len(password) < 8:
        raise ServerError("admin password must have at least 8 characters")
    password_hash = hash_password(password, policy)
    admin = session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        admin = Admin(username=username, password_hash=password_hash)
        session.add(admin)
    else:
        admin.password_hash = password_hash
    session.flush()
    return admin


def count_admins(*, session: Session) -> int:
    """Number of admin accounts."""
    return int(session.scalar(select(func.count()).select_from(Admin)) or 0)


def admin_by_name(*, session: Session, username: str) -> Admin | None:
    """The admin called ``username``, else None."""
    return session.scalar(select(Admin).where(Admin.username == username))


def create_admin_session(
    *, session: Session, admin: Admin, hours: float, kind: str = "console"
) -> tuple[AdminSession, str]:
    """Open a console session (or an API token, ``kind="api"``); returns it with its token (stored hashed)."""
    token = new_token()
    now = utcnow()
    session.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
    row = AdminSession(
        token_hash=hash_token(token),
        admin_id=admin.id,
        kind=kind,
        csrf_token=new_token() if kind == "console" else "",
        expires_at=now + dt.timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return row, token


def admin_session_by_token(*, session: Session, token: str, kind: str = "console") -> AdminSession | None:
    """The live console session (or API token) for a token, else None."""
    row = session.scalar(
        select(AdminSession).where(AdminSession.token_hash == hash_token(token), AdminSession.kind == kind)
    )
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def end_admin_session(*, session: Session, row: AdminSession) -> None:
    """Delete a console session (logout)."""
    session.delete(row)


def save_pending_upload(
    *, session: Session, admin: Admin, filename: str, glossary: Glossary
) -> PendingUpload:
    """Keep a validated upload until the admin confirms the diff."""
    row = PendingUpload(
        admin_id=admin.id, filename=filename[:200], content=glossary.canonical_json().decode("utf-8")
    )
    session.add(row)
    session.flush()
    return row


def pending_upload(*, session: Session, upload_id: int, admin: Admin) -> PendingUpload | None:
    """The upload ``upload_id`` if ``admin`` made it, else None."""
    row = session.get(PendingUpload, upload_id)
    if row is None or row.admin_id != admin.id:
        return None
    return row


# --- model packs ---------------------------------------------------------------------------------


def add_pack_release(
    *, session: Session, stored: StoredPack, uploaded_by: str, all_sites: bool | None = None
) -> PackRelease:
    """Record a stored pack release, offered to every site or (``all_sites=False``) only to the sites it
    is pushed to (``None``: a new release is offered to every site). An identical re-upload returns the
    existing row and keeps its offer unless ``all_sites`` says otherwise."""
    row = pack_release(session=session, pack_id=stored.pack_id, version=stored.version)
    if row is None:
        row = PackRelease(
            pack_id=stored.pack_id,
            version=stored.version,
            kind=stored.kind,
            languages=json.dumps(stored.languages),
            size_bytes=stored.size_bytes,
            manifest=canonical_bytes(stored.manifest).decode("utf-8"),
            signature=stored.signature,
            uploaded_by=uploaded_by,
        )
        session.add(row)
        row.all_sites = True
    if all_sites is not None:
        row.all_sites = all_sites
    session.flush()
    return row


def pack_release(*, session: Session, pack_id: str, version: str) -> PackRelease | None:
    return session.scalar(
        select(PackRelease).where(PackRelease.pack_id == pack_id, PackRelease.version == version)
    )


def release_offered_to(*, session: Session, release: PackRelease, site_id: int) -> bool:
    """Whether the devices of site ``site_id`` may fetch ``release``: it is offered to every site, or IT
    pushed its pack to this site."""
    if release.all_sites:
        return True
    query = select(SitePackOffer.id).where(
        SitePackOffer.site_id == site_id, SitePackOffer.pack_id == release.pack_id
    )
    return session.scalars(query).first() is not None


def offered_pack_release(*, session: Session, pack_id: str, version: str, site_id: int) -> PackRelease | None:
    """The release ``pack_id`` ``version`` if it is offered to site ``site_id``, else None (held releases
    and those pushed only to other sites look the same as unknown ones)."""
    row = pack_release(session=session, pack_id=pack_id, version=version)
    if row is None or not release_offered_to(session=session, release=row, site_id=site_id):
        return None
    return row


def list_pack_releases(*, session: Session) -> Sequence[PackRelease]:
    return session.scalars(select(PackRelease).order_by(PackRelease.pack_id, PackRelease.id)).all()


def reoffer_pack_release(*, session: Session, pack_id: str, version: str, by: str) -> PackRelease:
    """Offer a stored older release again (after a signed rollback): it becomes its pack's newest row.

    Raises:
        ServerError: the release is not stored.
    """
    row = pack_release(session=session, pack_id=pack_id, version=version)
    if row is None:
        raise ServerError(f"pack {pack_id} {version} is not stored (madoguchi server packs list)")
    values = {key: getattr(row, key) for key in ("pack_id", "version", "kind", "languages", "size_bytes",
                                                  "manifest", "signature", "all_sites")}  # fmt: skip
    session.delete(row)
    session.flush()
    clone = PackRelease(**values, uploaded_by=by[:100])
    session.add(clone)
    session.flush()
    return clone


def pack_offers(*, session: Session, site_id: int | None = None) -> list[PackRelease]:
    """The newest release of each pack id that the devices of site ``site_id`` should hold: releases
    offered to every site, and those of the packs pushed to this site (``None``: every site's share)."""
    pushed: set[str] = set()
    if site_id is not None:
        query = select(SitePackOffer.pack_id).where(SitePackOffer.site_id == site_id)
        pushed = set(session.scalars(query).all())
    newest: dict[str, PackRelease] = {}
    for row in list_pack_releases(session=session):
        if row.all_sites or row.pack_id in pushed:
            newest[row.pack_id] = row  # ordered by id: the last one wins
    return [newest[key] for key in sorted(newest)]


def push_pack_to_site(*, session: Session, site_id: int, pack_id: str, by: str) -> SitePackOffer:
    """Offer pack ``pack_id`` (its newest release, now and after updates) to the devices of one site.

    Raises:
        ServerError: the site does not exist or no release of the pack is stored.
    """
    if session.get(Site, site_id) is None:
        raise ServerError(f"site {site_id} does not exist")
    if not session.scalars(select(PackRelease.id).where(PackRelease.pack_id == pack_id)).first():
        raise ServerError(f"pack {pack_id} is not stored (madoguchi server packs add)")
    query = select(SitePackOffer).where(SitePackOffer.site_id == site_id, SitePackOffer.pack_id == pack_id)
    row = session.scalar(query)
    if row is None:
        row = SitePackOffer(site_id=site_id, pack_id=pack_id, pushed_by=by[:100])
        session.add(row)
        session.flush()
    return row


def site_pushes(*, session: Session) -> dict[str, list[str]]:
    """Pack id → names of the sites it was pushed to."""
    out: dict[str, list[str]] = {}
    query = select(SitePackOffer.pack_id, Site.name).join(Site).order_by(Site.name)
    for pack_id, site in session.execute(query).all():
        out.setdefault(pack_id, []).append(site)
    return out


def site_push(*, session: Session, push_id: int) -> SitePackOffer | None:
    return session.get(SitePackOffer, push_id)
