"""Pack releases only go up: the device remembers the newest signed release it accepted per pack.

A heartbeat reply (the server) chooses which release of a pack to offer. Every release is signed with the
pack key and its statement carries ``signed_at``; the device keeps, per pack id, the version and
``signed_at`` of the last release it accepted from the server (``signed-releases.json``). An offer signed
earlier than that is a downgrade and is refused, unless it comes with a rollback statement signed by the
pack key that names this pack, the version the device is on and the offered version.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from glossary.errors import SignatureError
from glossary.pack_signing import verify_rollback

_LOGGER = logging.getLogger(__name__)

RECORD_FILE: Final = "signed-releases.json"


@dataclass(frozen=True)
class AcceptedRelease:
    version: str
    signed_at: str


class ReleaseRecord:
    """``<work_dir>/signed-releases.json``: pack id → the last accepted (version, signed_at)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, pack_id: str) -> AcceptedRelease | None:
        item = self._read().get(pack_id)
        if not isinstance(item, dict):
            return None
        return AcceptedRelease(str(item.get("version")), str(item.get("signed_at")))

    def set(self, pack_id: str, release: AcceptedRelease) -> None:
        data = self._read()
        data[pack_id] = {"version": release.version, "signed_at": release.signed_at}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            _LOGGER.warning("pack release record %s is unreadable (%s); starting a new one", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}


def downgrade_problem(
    record: ReleaseRecord,
    pack_id: str,
    version: str,
    signed_at: str,
    rollback: Any,
    pack_key: Ed25519PublicKey,
) -> str | None:
    """None when the offered release may be installed, else why not (a downgrade without a valid rollback)."""
    last = record.get(pack_id)
    if last is None or signed_at >= last.signed_at or version == last.version:
        return None
    if rollback is None:
        return (
            f"pack {pack_id} {version} (signed {signed_at}) is older than the installed {last.version} "
            f"(signed {last.signed_at}) and comes with no signed rollback: refusing the downgrade"
        )
    try:
        statement = verify_rollback(pack_key, rollback)
    except SignatureError as exc:
        return f"pack {pack_id} {version}: {exc}"
    if (statement.get("pack"), statement.get("from_version"), statement.get("to_version")) != (
        pack_id,
        last.version,
        version,
    ):
        return (
            f"the rollback statement is for {statement.get('pack')} {statement.get('from_version')} -> "
            f"{statement.get('to_version')}, not {pack_id} {last.version} -> {version}: refusing it"
        )
    _LOGGER.warning("pack %s goes back from %s to %s (rollback signed by IT)", pack_id, last.version, version)
    return None
