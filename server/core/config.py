"""Deployment settings of the central server (environment ``MADOGUCHI_SERVER_*``).

Built once in ``main()``/``create_app`` and passed down; importing this module needs no environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from madoguchi import paths


def default_home() -> Path:
    """The server's directory (``madoguchi.paths.server_home``: default ``<home>/server``)."""
    return paths.server_home()


class ServerSettings(BaseSettings):
    """Settings of ``madoguchi server``; every field can be set as ``MADOGUCHI_SERVER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_SERVER_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    """Directory for the SQLite database and the signing key."""

    database_url: str = ""
    """SQLAlchemy URL; empty means ``sqlite:///<home>/server.db`` (WAL mode)."""

    signing_key_path: Path | None = None
    """Ed25519 private key (PEM); empty means ``<home>/glossary-signing.key``."""

    host: str = "127.0.0.1"
    port: int = 8470

    admin_user: str = ""
    """Bootstrap admin created on start when no admin exists (with ``admin_password``)."""

    admin_password: str = ""

    max_request_bytes: int = 10 * 1024 * 1024
    """Largest request body of any route, bytes (a glossary upload is at most 8 MiB)."""

    max_pack_upload_bytes: int = 8 * 1024**3
    """Largest model pack upload (``POST /api/v1/admin/packs``, with credentials), bytes."""

    usage_max_body_bytes: int = 256 * 1024
    """Largest accepted usage batch body, bytes."""

    usage_max_rows: int = 2000
    """Most counter rows in one usage batch."""

    heartbeat_max_body_bytes: int = 16 * 1024
    """Largest accepted heartbeat body, bytes."""

    device_requests_per_minute: int = 240
    """Requests one device token may make per minute (a burst of this many, then 429; 0 = no limit)."""

    password_time_cost: int = 3
    """argon2 iterations for admin passwords (count; RFC 9106 low-memory profile)."""

    password_memory_kib: int = 65536
    """argon2 memory for admin passwords (KiB)."""

    stale_after_hours: float = 24.0
    """A device not seen for this long is highlighted as stale in the fleet view."""

    session_hours: float = 12.0
    """Lifetime of a console login session, hours."""

    suppress_below_turns: int = 5
    """Console/export cells (site × week × language) with fewer turns are suppressed."""

    publish_bundled_glossary: bool = True
    """On first start, publish the bundled glossary as version 1."""

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # Plain postgresql:// means psycopg 3 here (as in the template), not psycopg2.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'server.db'}"

    @property
    def resolved_signing_key_path(self) -> Path:
        """The signing key path, defaulting to ``<home>/glossary-signing.key``."""
        return self.signing_key_path or self.home / "glossary-signing.key"

    @property
    def public_key_path(self) -> Path:
        """Where the public half is written for devices (``.pub`` beside the key)."""
        return self.resolved_signing_key_path.with_suffix(".pub")
