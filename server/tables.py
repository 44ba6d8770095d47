"""Database tables (SQLAlchemy 2). Schema changes go through Alembic only (server/migrations).

Named ``tables`` rather than ``models`` so it is never confused with the top-level ``models/``
package (model packs).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import true as sql_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic needs them)."""

    metadata = MetaData(naming_convention=_NAMING)


class Site(Base):
    """A city-hall counter location (one site has several devices)."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    devices: Mapped[list[Device]] = relationship(back_populates="site")


class Device(Base):
    """An enrolled counter device; only the sha256 of its token is stored."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_devices_site_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    app_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    glossary_version: Mapped[str | None] = mapped_column(String(80), nullable=True)
    glossary_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pack_ids: Mapped[str] = mapped_column(Text, default="[]")
    packs: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    """JSON list of ``PackInfo``: what the device reported about each installed pack."""
    languages: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    """JSON list of the device's enabled counter languages."""
    free_disk_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)

    site: Mapped[Site] = relationship(back_populates="devices")


class GlossaryVersion(Base):
    """One immutable published glossary; the highest ``number`` is current."""

    __tablename__ = "glossary_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str] = mapped_column(String(32))
    published_by: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    term_count: Mapped[int] = mapped_column(Integer, default=0)
    phrase_count: Mapped[int] = mapped_column(Integer, default=0)


class UsageBatch(Base):
    """A usage batch a device delivered; (device, batch id) makes a retried upload count once."""

    __tablename__ = "usage_device_batches"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageTurns(Base):
    """Turns per site × ISO week × resident language: all the server keeps of conversations.

    ``week`` is the Monday of the ISO week. No device, day, direction or time of day is kept.
    """

    __tablename__ = "usage_turns"
    __table_args__ = (UniqueConstraint("site_id", "week", "language", name="uq_usage_turns_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    week: Mapped[dt.date] = mapped_column(Date, index=True)
    language: Mapped[str] = mapped_column(String(8))
    turns: Mapped[int] = mapped_column(BigInteger)


class UsageItem(Base):
    """Other counters per site × ISO week, without language: term and phrase ids, term fallbacks,
    latency buckets, language-id mismatches and flagged turns (``key`` is an id, a bucket or "")."""

    __tablename__ = "usage_items"
    __table_args__ = (UniqueConstraint("site_id", "week", "kind", "key", name="uq_usage_items_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    week: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(96), default="")
    count: Mapped[int] = mapped_column(BigInteger)


class Admin(Base):
    """An IT administrator of the console (argon2 password hash)."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminSession(Base):
    """A console login (``kind="console"``: the cookie holds the token, the database its sha256 and
    the CSRF token) or an admin API token (``kind="api"``, no CSRF token)."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id"))
    kind: Mapped[str] = mapped_column(String(8), default="console")
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    admin: Mapped[Admin] = relationship()


class PendingUpload(Base):
    """A validated glossary upload waiting for the admin to confirm the diff and publish."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PackRelease(Base):
    """A model pack release uploaded for devices: files on the server's disk, manifest and signature here."""

    __tablename__ = "pack_releases"
    __table_args__ = (UniqueConstraint("pack_id", "version", name="uq_pack_releases_pack_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    languages: Mapped[str] = mapped_column(Text, default="[]")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    manifest: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    all_sites: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sql_true())
    """Offered to every site (the default); else only to the sites IT pushed the pack to."""


class SitePackOffer(Base):
    """IT pushed a pack to one site from the console: its devices are offered the pack's newest release
    even when that release is not offered to every site."""

    __tablename__ = "site_pack_offers"
    __table_args__ = (UniqueConstraint("site_id", "pack_id", name="uq_site_pack_offers_site_pack"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    pack_id: Mapped[str] = mapped_column(String(100))
    pushed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    pushed_by: Mapped[str] = mapped_column(String(100), default="")

    site: Mapped[Site] = relationship()
