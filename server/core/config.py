"""Deployment settings of the central server (environment ``MADOGUCHI_SERVER_*``).

Built once in ``main()``/``create_app`` and passed down; importing this module needs no environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from madoguchi import paths
from server.core.security import PASSWORD_MEMORY_KIB, PASSWORD_TIME_COST, PasswordPolicy


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
    """Ed25519 glossary key (PEM; online, signs glossaries only); empty = ``<home>/glossary-signing.key``."""

    pack_key_path: Path | None = None
    """Public half of the offline pack key (PEM) that signs uploads; empty = ``<home>/pack-signing.pub``."""

    glossary_signature_days: int = 30
    """Validity of a served glossary statement, days: devices refuse an expired one and warn on their own."""

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

    password_time_cost: int = PASSWORD_TIME_COST
    """argon2 iterations for admin passwords (count; RFC 9106 low-memory profile)."""

    password_memory_kib: int = PASSWORD_MEMORY_KIB
    """argon2 memory for admin passwords (KiB)."""

    password_checks_at_once: int = Field(default=2, ge=1, le=64)
    """Most admin password checks (argon2, ~64 MiB each) running at the same time."""

    login_free_failures: int = Field(default=5, ge=1, le=1000)
    """Failed logins per account and per client before each further failure doubles the wait."""

    login_max_delay_s: float = Field(default=900.0, ge=1.0)
    """Longest wait imposed after repeated failed logins, seconds."""

    api_token_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    """Lifetime of an admin API token (``POST /api/v1/admin/token``), minutes."""

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
    def password_policy(self) -> PasswordPolicy:
        """The argon2 parameters of new admin password hashes."""
        return PasswordPolicy(time_cost=self.password_time_cost, memory_kib=self.password_memory_kib)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'server.db'}"

    @property
    def resolved_signing_key_path(self) -> Path:
        """The signing key path, defaulting to ``<home>/glossary-signing.key``."""
        return self.signing_key_path or self.home / "glossary-signing.key"

    @property
    def resolved_pack_key_path(self) -> Path:
        """The pack key's public half, defaulting to ``<home>/pack-signing.pub``."""
        return self.pack_key_path or self.home / "pack-signing.pub"

    @property
    def public_key_path(self) -> Path:
        """Where the public half is written for devices (``.pub`` beside the key)."""
        return self.resolved_signing_key_path.with_suffix(".pub")
