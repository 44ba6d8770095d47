"""What an install of a bundle is told (``InstallOptions``), what it did (``InstallResult``), and where
things go on a device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from deploy.bundle.kiosk import DEFAULT_POLICY_DIR

DEFAULT_PREFIX: Final = Path("/opt/madoguchi")
ENV_FILE: Final = "madoguchi.env"
COMPLETE_MARKER: Final = ".complete"
#: Written before ``current`` is switched, removed once the new release passed its health check.
PENDING_MARKER: Final = ".health-pending"
GUARD_SCRIPT: Final = "health-guard.sh"
SERVICE_USER: Final = "madoguchi"


@dataclass(frozen=True)
class InstallOptions:
    """How and where to install one bundle."""

    bundle_dir: Path
    prefix: Path = DEFAULT_PREFIX
    role: str | None = None
    """``edge`` (counter device) or ``server`` (central server); None = the prefix's role, else edge."""
    services: bool = True
    """Install and (re)start the systemd units."""
    kiosk: bool = False
    """Also install the kiosk unit (chromium --kiosk on the device's display)."""
    server_url: str | None = None
    token: str | None = None
    """The enrollment token (read from a file, the environment or stdin; never a command-line value)."""
    pubkey_path: Path | None = None
    """The bundle (pack) signing key for a first install; must equal the pinned key on an update."""
    expect_key: str | None = None
    """Full fingerprint of the bundle key, as IT published it: a first install proceeds only with it..."""
    confirm: Callable[[str], bool] | None = None
    """...or with a yes from this callback (an interactive terminal); None = not interactive."""
    glossary_key_path: Path | None = None
    """The central server's glossary-signing.pub, for enrollment."""
    port: int = 8765
    """Port of the counter page (TCP port)."""
    systemd_dir: Path = Path("/etc/systemd/system")
    kiosk_user: str = "pi"
    chromium_policy_dir: Path = DEFAULT_POLICY_DIR
    """Where chromium reads managed policies (the kiosk's lock-down policy goes there)."""
    service_user: str | None = None
    """User the services run as (default: the ``madoguchi`` system user, created when missing)."""


@dataclass
class InstallResult:
    """What an install did."""

    release_id: str
    release_dir: Path
    previous: str | None
    packs_installed: list[str] = field(default_factory=list)
    enrolled: bool = False
    services: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
