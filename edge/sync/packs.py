"""Device side of pack distribution: packs from the central server, resumable, throttled, verified, atomic.

The heartbeat reply names the packs this device should hold (``pack_offers``: id, version, size). For each
one not installed at that version the device

1. fetches the pack's manifest (``GET /api/v1/packs/{id}/{version}/manifest``) and checks its Ed25519
   signature by the offline *pack key* the device pinned at enrollment (see :mod:`glossary.pack_signing`;
   the server's glossary key cannot sign packs), and that it is no older than the release accepted last
   unless IT signed a rollback (:mod:`edge.sync.pack_releases`);
2. downloads every file (``GET /api/v1/packs/{id}/{version}/files/{path}``) into
   ``<work_dir>/<id>-<version>/<path>.part``, resuming with ``Range: bytes=<have>-`` after an interruption,
   at most ``bandwidth_limit_bytes_per_s``, and checks size and sha256 against the signed manifest (a bad file
   is deleted and refused, so the next round downloads it afresh);
3. installs the directory through :func:`models.install_pack`, which copies, hashes again and renames into
   the store atomically: a power cut leaves the old pack set, never half a pack.

The next heartbeat reports the new pack set. Nothing about conversations is sent or logged.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from contracts import api
from contracts.fleet import PackOffer
from edge.errors import SyncError
from edge.sync.pack_releases import RECORD_FILE, AcceptedRelease, ReleaseRecord, downgrade_problem
from edge.sync.server_url import check_server_url
from glossary.errors import SignatureError
from glossary.pack_signing import verify_pack
from glossary.signing import load_public_key
from madoguchi.files import file_sha256
from models import InstalledPack, PackSpec, PackStore, install_pack
from models.errors import ModelPackError

_LOGGER = logging.getLogger(__name__)


def offers_from_reply(reply: dict[str, Any] | None) -> list[PackOffer]:
    """The ``pack_offers`` of a heartbeat reply (an older server sends none)."""
    offers = []
    for item in (reply or {}).get("pack_offers") or []:
        try:
            offers.append(PackOffer(**item))
        except (TypeError, ValidationError):
            _LOGGER.warning("ignoring a malformed pack offer in the heartbeat reply")
    return offers


@dataclass(frozen=True)
class PackSyncOptions:
    """Per-device knobs of pack downloads."""

    bandwidth_limit_bytes_per_s: float | None = 2_000_000.0
    """Download rate ceiling (bytes per second; None = unlimited). Counters share the city's uplink."""
    chunk_bytes: int = 256 * 1024
    """Read size per network chunk (bytes)."""
    timeout_s: float = 30.0
    """HTTP timeout per request (seconds)."""


@dataclass
class PackSyncReport:
    """What one round did."""

    installed: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """pack id → error code (``signature``, ``downgrade``, ``checksum``, ``server_unreachable``, ``http``,
    ``install``)."""
    downloaded_bytes: int = 0


class PackSync:
    """Downloads and installs the packs the server offers, one device."""

    def __init__(
        self,
        server_url: str,
        token: str,
        pack_key_pem: bytes,
        store: PackStore,
        work_dir: Path,
        *,
        options: PackSyncOptions | None = None,
        http: httpx.Client | None = None,
        on_progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        self.server_url = check_server_url(server_url)
        self.store = store
        self.work_dir = work_dir
        self.options = options or PackSyncOptions()
        self.record = ReleaseRecord(work_dir / RECORD_FILE)
        try:
            self._public_key = load_public_key(pack_key_pem)
        except SignatureError as exc:
            raise SyncError(f"the pack key is unusable: {exc}") from exc
        self._http = http or httpx.Client(timeout=self.options.timeout_s)
        self._own_http = http is None
        self._headers = {"Authorization": f"Bearer {token}"}
        self._on_progress = on_progress

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> PackSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what to do ---------------------------------------------------------------------------

    def needed(self, offers: list[PackOffer]) -> list[PackOffer]:
        """Offers not installed at the offered version."""
        return [offer for offer in offers if not self._has(offer)]

    def _has(self, offer: PackOffer) -> bool:
        if not self.store.is_installed(offer.id):
            return False
        try:
            return self.store.get(offer.id).spec.version == offer.version
        except ModelPackError:
            return False

    def sync(self, offers: list[PackOffer]) -> PackSyncReport:
        """Install the missing or outdated offered packs; errors are reported per pack, never raised."""
        report = PackSyncReport()
        self.store.clean_leftovers()
        for offer in offers:
            if self._has(offer):
                report.up_to_date.append(offer.id)
                continue
            try:
                self.install(offer, report)
            except _PackFailure as exc:
                report.failed[offer.id] = exc.code
                _LOGGER.warning("pack %s %s not installed (%s): %s", offer.id, offer.version, exc.code, exc)
            else:
                report.installed.append(offer.id)
        return report

    # -- one pack -----------------------------------------------------------------------------

    def install(self, offer: PackOffer, report: PackSyncReport | None = None) -> InstalledPack:
        """Fetch, verify, download (resuming) and install one pack atomically."""
        pack, signed_at = self.fetch_manifest(offer)
        staging = self.work_dir / f"{offer.id}-{offer.version}"
        staging.mkdir(parents=True, exist_ok=True)
        for item in pack["files"]:
            got = self._download_file(offer, item, staging)
            if report is not None:
                report.downloaded_bytes += got
        (staging / "pack.json").write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
        try:
            installed = install_pack(str(staging), self.store, accept_noncommercial=True)
        except ModelPackError as exc:
            raise _PackFailure("install", f"install failed: {exc}") from exc
        self.record.set(offer.id, AcceptedRelease(offer.version, signed_at))
        shutil.rmtree(staging, ignore_errors=True)
        _LOGGER.info("pack %s %s installed from the server", offer.id, offer.version)
        return installed

    def fetch_manifest(self, offer: PackOffer) -> tuple[dict[str, Any], str]:
        """The pack.json signed with the pack key for this offer and its ``signed_at`` (both checked)."""
        url = f"{self.server_url}{api.PACKS}/{quote(offer.id)}/{quote(offer.version)}/manifest"
        body = self._get_json(url)
        pack = body.get("pack")
        if not isinstance(pack, dict):
            raise _PackFailure("signature", "manifest reply has no pack")
        try:
            signed_at = verify_pack(self._public_key, pack, body)
        except SignatureError as exc:
            raise _PackFailure("signature", f"pack manifest signature does not verify: {exc}") from exc
        try:
            spec = PackSpec.from_dict(pack, f"server pack {offer.id}")
        except ModelPackError as exc:
            raise _PackFailure("signature", f"signed manifest is not a pack: {exc}") from exc
        if spec.id != offer.id or spec.version != offer.version:
            raise _PackFailure("signature", f"manifest is {spec.id} {spec.version}, not the offered one")
        for item in pack["files"]:
            rel = PurePosixPath(str(item.get("path", "")))
            if rel.is_absolute() or ".." in rel.parts or not item.get("sha256"):
                raise _PackFailure("signature", f"manifest lists an unsafe or unhashed file {rel}")
        problem = downgrade_problem(
            self.record, offer.id, offer.version, signed_at, body.get("rollback"), self._public_key
        )
        if problem is not None:
            raise _PackFailure("downgrade", problem)
        return pack, signed_at

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise _PackFailure("server_unreachable", f"{exc!r}") from exc
        if response.status_code != 200:
            raise _PackFailure("http", f"GET {url}: HTTP {response.status_code}")
        data: dict[str, Any] = response.json()
        return data

    def _download_file(self, offer: PackOffer, item: dict[str, Any], staging: Path) -> int:
        """Download one file with resume; returns the bytes fetched in this call."""
        rel, expected_sha, expected_size = str(item["path"]), str(item["sha256"]), item.get("size_bytes")
        final = staging / rel
        if final.exists() and file_sha256(final) == expected_sha:
            return 0
        part = final.with_name(final.name + ".part")
        part.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        if expected_size is not None and have > expected_size:
            part.unlink()
            have = 0
        url = f"{self.server_url}{api.PACKS}/{quote(offer.id)}/{quote(offer.version)}/files/{quote(rel)}"
        fetched = 0
        if expected_size is None or have < expected_size:
            fetched = self._stream(url, part, have, rel, expected_size)
        if file_sha256(part) != expected_sha or (
            expected_size is not None and part.stat().st_size != expected_size
        ):
            part.unlink(missing_ok=True)  # never resume from bad bytes
            raise _PackFailure("checksum", f"{offer.id}/{rel} does not match the signed sha256: refused")
        os.replace(part, final)
        return fetched

    def _stream(self, url: str, part: Path, have: int, rel: str, total: int | None) -> int:
        headers = dict(self._headers)
        if have:
            headers["Range"] = f"bytes={have}-"
        fetched = 0
        started = time.monotonic()
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code == 200 and have:
                    have = 0  # the server ignored the range: start over
                elif response.status_code not in (200, 206):
                    raise _PackFailure("http", f"GET {rel}: HTTP {response.status_code}")
                with open(part, "r+b" if have else "wb") as out:
                    out.seek(have)
                    out.truncate()
                    for chunk in response.iter_bytes(self.options.chunk_bytes):
                        out.write(chunk)
                        fetched += len(chunk)
                        if self._on_progress:
                            self._on_progress(rel, have + fetched, total)
                        self._throttle(fetched, started)
                    out.flush()
                    os.fsync(out.fileno())
        except httpx.HTTPError as exc:
            raise _PackFailure("server_unreachable", f"download of {rel} interrupted: {exc!r}") from exc
        return fetched

    def _throttle(self, fetched: int, started: float) -> None:
        limit = self.options.bandwidth_limit_bytes_per_s
        if not limit:
            return
        ahead = fetched / limit - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)


class _PackFailure(SyncError):
    """One pack could not be brought in this round (the code goes to the report)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BackgroundPackSync:
    """Runs :meth:`PackSync.sync` in a worker thread when a heartbeat reply offers missing packs.

    One round at a time; the counter's event loop is never blocked (downloads are throttled, hashing
    happens in the worker thread). The next heartbeat reports the new pack set via :meth:`pack_ids`.
    """

    def __init__(self, sync: PackSync) -> None:
        self.sync = sync
        self.last_report: PackSyncReport | None = None
        self._busy = threading.Lock()

    def pack_ids(self) -> list[str]:
        """Installed pack ids (what the heartbeat reports)."""
        return [pack.id for pack in self.sync.store.installed()]

    def on_heartbeat_reply(self, reply: dict[str, Any]) -> None:
        """Start a background round if the reply offers packs this device lacks (returns at once)."""
        offers = offers_from_reply(reply)
        if not self.sync.needed(offers) or self._busy.locked():
            return
        threading.Thread(target=self._round, args=(offers,), name="pack-sync", daemon=True).start()

    def _round(self, offers: list[PackOffer]) -> None:
        if not self._busy.acquire(blocking=False):
            return
        try:
            self.last_report = self.sync.sync(offers)
        except Exception as exc:  # a background round must never take the counter down
            _LOGGER.warning("pack sync round failed: %r", exc)
        finally:
            self._busy.release()


def background_sync_for(
    home: Path, store: PackStore, *, options: PackSyncOptions | None = None
) -> BackgroundPackSync | None:
    """The pack sync of an enrolled device (None when not enrolled)."""
    from edge.sync.enrollment import enrollment_paths

    paths = enrollment_paths(home)
    if not paths.server_url or not paths.token_path.exists():
        return None
    if not paths.pack_key_path.exists():
        _LOGGER.warning(
            "no pack key pinned (%s): model packs from the server are not taken; enroll with --pack-key",
            paths.pack_key_path,
        )
        return None
    sync = PackSync(
        paths.server_url,
        paths.token_path.read_text(encoding="ascii").strip(),
        paths.pack_key_path.read_bytes(),
        store,
        home / "pack-downloads",
        options=options,
    )
    return BackgroundPackSync(sync)
