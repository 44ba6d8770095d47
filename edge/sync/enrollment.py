"""Enrollment of a counter device with the central server, and the sync client built from it.

``enroll`` stores the server URL, the device token and the two pinned public keys (glossary and pack)
under the device's home; ``client_from_home`` builds a ``SyncClient`` from them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.errors import SyncError
from edge.sync.client import PullResult, SyncClient, SyncOptions
from edge.sync.glossary_store import SERVER_FILE
from edge.sync.outbox import Outbox
from edge.sync.server_url import check_server_url
from glossary.errors import SignatureError
from glossary.signing import load_public_key
from madoguchi.files import private_dir, write_private

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enrollment:
    """Where an enrolled device keeps its sync material."""

    server_url: str
    token_path: Path
    pubkey_path: Path
    """The glossary key (``server.pub``)."""
    glossary_dir: Path
    outbox_path: Path
    pack_key_path: Path
    """The pack key (``pack.pub``): model packs from the server verify with it and nothing else."""


def enrollment_paths(
    home: Path, token_path: Path | None = None, pubkey_path: Path | None = None
) -> Enrollment:
    """The sync files under a device's data directory (server URL from ``server.json``)."""
    server_file = home / SERVER_FILE
    url = ""
    if server_file.exists():
        url = str(json.loads(server_file.read_text(encoding="utf-8")).get("server_url", ""))
    return Enrollment(
        server_url=url,
        token_path=token_path or home / "device.token",
        pubkey_path=pubkey_path or home / "server.pub",
        glossary_dir=home / "glossary",
        outbox_path=home / "outbox.db",
        pack_key_path=home / "pack.pub",
    )


def enroll(
    server_url: str,
    token: str,
    pubkey_file: Path,
    home: Path,
    *,
    token_path: Path | None = None,
    pubkey_path: Path | None = None,
    pack_key_file: Path | None = None,
    timeout_s: float = 15.0,
) -> PullResult:
    """Enroll this device: check the token and keys against the server, store them, pull the glossary.

    ``pubkey_file`` is the server's glossary key; ``pack_key_file`` the separate (offline) pack key that
    model packs from the server must be signed with (without it the device takes no packs from the server).

    Raises:
        SyncError: plain http to another machine, a key file that is not an Ed25519 public key, one key
            given for both purposes, the server unreachable, the token refused, or the server's glossary
            not verifying with the glossary key.
    """
    server_url = check_server_url(server_url)
    key_bytes = _read_key(pubkey_file, "glossary")
    pack_key = _read_key(pack_key_file, "pack") if pack_key_file is not None else None
    if pack_key is not None:
        _check_separate_keys(key_bytes, pack_key, pack_key_file)
    paths = enrollment_paths(home, token_path, pubkey_path)
    result = asyncio.run(_pull_glossary(server_url, token, key_bytes, paths, timeout_s))
    _check_pull(result, server_url, pubkey_file)
    private_dir(home)
    write_private(paths.token_path, (token + "\n").encode("ascii"))
    paths.pubkey_path.write_bytes(key_bytes)
    if pack_key is not None:
        paths.pack_key_path.write_bytes(pack_key)
    (home / SERVER_FILE).write_text(json.dumps({"server_url": server_url.rstrip("/")}), encoding="utf-8")
    _LOGGER.info("enrolled with %s (glossary %s)", server_url, result.version)
    return result


def _check_separate_keys(glossary_key: bytes, pack_key: bytes, pack_key_file: Path | None) -> None:
    """Refuse one key for both purposes: a server key alone must not be able to push model packs."""
    if load_public_key(pack_key).public_bytes_raw() == load_public_key(glossary_key).public_bytes_raw():
        raise SyncError(
            f"{pack_key_file} is the glossary key: the pack key must be a separate key "
            "(madoguchi server keygen --purpose pack), so a server key alone cannot push model packs"
        )


async def _pull_glossary(
    server_url: str, token: str, key_bytes: bytes, paths: Enrollment, timeout_s: float
) -> PullResult:
    """One glossary pull with the given token and key (checks both against the server)."""
    outbox = Outbox(paths.outbox_path)
    try:
        client = SyncClient(
            server_url,
            token,
            key_bytes,
            paths.glossary_dir,
            outbox,
            options=SyncOptions(timeout_s=timeout_s),
        )
        async with client:
            return await client.pull_glossary()
    finally:
        outbox.close()


def _check_pull(result: PullResult, server_url: str, pubkey_file: Path) -> None:
    """Turn a failed enrollment pull into what the person enrolling must do."""
    if result.status == "failed" and result.error_code == "unauthorized":
        raise SyncError("the server refused the token (enroll the device again: madoguchi server enroll)")
    if result.status == "failed" and result.error_code == "server_unreachable":
        raise SyncError(f"cannot reach {server_url} (check the URL and the network)")
    if result.status == "refused":
        raise SyncError(
            f"the server's glossary does not verify with {pubkey_file} ({result.error_code}); "
            "check that the key file is the server's glossary-signing.pub"
        )


def _read_key(path: Path, purpose: str) -> bytes:
    try:
        data = path.read_bytes()
        load_public_key(data)
    except OSError as exc:
        raise SyncError(
            f"cannot read the {purpose} key {path}: {exc.strerror or exc}; "
            f"ask IT for the {purpose}-signing.pub file"
        ) from exc
    except SignatureError as exc:
        raise SyncError(f"{path}: {exc}") from exc
    return data


def client_from_home(
    home: Path,
    *,
    server_url: str | None = None,
    token_path: Path | None = None,
    pubkey_path: Path | None = None,
    options: SyncOptions | None = None,
    pack_ids: Callable[[], list[str]] | None = None,
) -> SyncClient:
    """A :class:`SyncClient` for an enrolled device (the caller closes ``client.outbox``).

    Raises:
        SyncError: the device is not enrolled.
    """
    paths = enrollment_paths(home, token_path, pubkey_path)
    url = server_url or paths.server_url
    if not url or not paths.token_path.exists() or not paths.pubkey_path.exists():
        raise SyncError(
            "this device is not enrolled (run: madoguchi edge enroll --server URL --token-file FILE "
            "--glossary-key glossary-signing.pub --pack-key pack-signing.pub)"
        )
    token = paths.token_path.read_text(encoding="ascii").strip()
    return SyncClient(
        url,
        token,
        paths.pubkey_path,
        paths.glossary_dir,
        Outbox(paths.outbox_path),
        options=options,
        pack_ids=pack_ids,
    )
