"""Device side of fleet sync: signed glossary pulls, usage batches, heartbeats (enrollment is in
``edge.sync.enrollment``, the glossary on disk in ``edge.sync.glossary_store``).

Design decisions:

- **Trust the key, not the wire.** A pulled glossary is installed only if its Ed25519 signature
  (by the key IT copied at enrollment) verifies, its content matches the signed sha256, and its
  signed version number is not lower than the installed one (a correctly signed *old* version
  replayed at the device is a downgrade and is refused). Anything else is refused, the last good
  version stays in use, and the error code goes out with the next heartbeat.
- **Fresh statements only.** A statement carries a signed expiry the server renews while it serves the
  version. An expired statement pulled from the network is refused; while the installed one is expired
  the device warns (``glossary_expired`` in the heartbeat) and keeps using it: the last good version.
- **One key per purpose.** The glossary is checked with the glossary key; model packs with the separate,
  offline pack key (``pack.pub``); both are pinned at enrollment.
- **Atomic install.** The envelope is written to a temp file, fsynced, the current file moves to
  ``previous.json`` and the temp file is renamed to ``current.json`` (then the directory is
  fsynced). A crash between the renames leaves ``previous.json``, which :meth:`GlossaryStore.load`
  falls back to. The stored file is the signed envelope, so it is verified again on every start.
- **Nothing on the hot path waits for the network.** Turns go into the :class:`~edge.sync.outbox.Outbox`;
  :class:`SyncClient` sends in the background with exponential backoff.
- **Async.** One implementation on ``httpx.AsyncClient`` serves the counter app's event loop, the
  CLI (``asyncio.run``) and the fleet simulator (hundreds of devices in one loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from contracts import api
from contracts.fleet import HeartbeatIn, HeartbeatOut
from edge.sync.glossary_store import (
    ETAG_FILE,
    GlossaryStore,
    InstalledGlossary,
)
from edge.sync.outbox import Outbox
from edge.sync.server_url import check_server_url
from glossary.errors import GlossaryError, SignatureError
from glossary.schema import Glossary
from glossary.signing import SignedStatement, load_public_key, statement_expired, verify_envelope
from madoguchi.files import write_private

_LOGGER = logging.getLogger(__name__)


PullStatus = Literal["updated", "not_modified", "refused", "failed"]


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullResult:
    """Outcome of one glossary pull."""

    status: PullStatus
    number: int | None = None
    version: str | None = None
    error_code: str | None = None


@dataclass
class SyncReport:
    """Outcome of one :meth:`SyncClient.sync_once` round."""

    pull: PullResult
    batches_sent: int = 0
    turns_sent: int = 0
    heartbeat_ok: bool = False
    error_codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncOptions:
    """Timing of the background sync."""

    interval_s: float = 300.0
    """Time between sync rounds (seconds)."""

    timeout_s: float = 15.0
    """HTTP timeout per request (seconds)."""

    max_batches_per_round: int = 20
    """Usage batches sent per round at most (count)."""

    app_version: str = "0.0.0"
    """Reported in the heartbeat (the madoguchi version)."""


# --- the client ----------------------------------------------------------------------------------


class SyncClient:
    """Pulls the signed glossary, sends usage batches and heartbeats for one device."""

    def __init__(
        self,
        server_url: str,
        token: str,
        pubkey: Ed25519PublicKey | bytes | Path,
        glossary_dir: Path,
        outbox: Outbox,
        *,
        options: SyncOptions | None = None,
        http: httpx.AsyncClient | None = None,
        pack_ids: Callable[[], list[str]] | None = None,
    ) -> None:
        """Open the glossary store (the installed version loads at once); no network yet.

        Args:
            server_url: Base URL of the central server.
            token: The device token from enrollment.
            pubkey: The server's glossary-signing public key (key, PEM bytes or file).
            glossary_dir: Where the signed glossary envelopes are kept.
            outbox: The usage outbox whose batches :meth:`send_usage` sends.
            options: Sync interval, HTTP timeout, batch limit and app version.
            http: A shared HTTP client (its owner closes it); default: one of our own.
            pack_ids: Returns the installed model packs, for the heartbeat.
        """
        self.server_url = check_server_url(server_url)
        self.options = options or SyncOptions()
        if isinstance(pubkey, Path):
            pubkey = pubkey.read_bytes()
        self.public_key = pubkey if isinstance(pubkey, Ed25519PublicKey) else load_public_key(pubkey)
        self.store = GlossaryStore(glossary_dir, self.public_key)
        self.outbox = outbox
        self._token = token
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=self.options.timeout_s)
        self._pack_ids = pack_ids or (lambda: [])
        #: Returns extra heartbeat fields about the device's packs (``packs``, ``languages``): ids and
        #: codes only, never conversation data.
        self.device_report: Callable[[], dict[str, Any]] | None = None
        self.last_error_code: str | None = None
        self.installed: InstalledGlossary | None = self.store.load()
        self.on_glossary: Callable[[InstalledGlossary], None] | None = None
        #: Called with each heartbeat reply (e.g. the pack sync reacting to ``pack_offers``).
        self.on_heartbeat_reply: Callable[[dict[str, Any]], None] | None = None

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _fail(self, code: str, message: str) -> str:
        self.last_error_code = code
        _LOGGER.warning("sync: %s (%s)", message, code)
        return code

    # -- glossary -----------------------------------------------------------------------------

    async def pull_glossary(self) -> PullResult:
        """Fetch the current glossary; install it only if it verifies and is not a downgrade."""
        headers = dict(self._headers)
        etag_path = self.store.directory / ETAG_FILE
        if self.installed is not None and etag_path.exists():
            headers["If-None-Match"] = etag_path.read_text(encoding="ascii").strip()
        try:
            response = await self._http.get(f"{self.server_url}{api.GLOSSARY_CURRENT}", headers=headers)
        except httpx.HTTPError as exc:
            return PullResult(
                "failed", error_code=self._fail("server_unreachable", f"glossary pull: {exc!r}")
            )
        if response.status_code == 304:
            return PullResult("not_modified", *self._installed_ids())
        if response.status_code == 401:
            return PullResult("failed", error_code=self._fail("unauthorized", "device token refused"))
        if response.status_code == 404:
            number, version = self._installed_ids()
            return PullResult(
                "failed", number, version, self._fail("no_glossary", "server has no glossary yet")
            )
        if response.status_code != 200:
            code = self._fail("server_error", f"glossary pull: HTTP {response.status_code}")
            return PullResult("failed", error_code=code)
        return self._accept(response.content, response.headers.get("etag"))

    def _installed_ids(self) -> tuple[int | None, str | None]:
        if self.installed is None:
            return None, None
        return self.installed.statement.number, self.installed.statement.version

    def _accept(self, body: bytes, etag: str | None) -> PullResult:
        number, version = self._installed_ids()
        try:
            envelope = json.loads(body)
            if not isinstance(envelope, dict):
                raise ValueError("not an object")
        except ValueError:
            return PullResult(
                "refused", number, version, self._fail("glossary_malformed", "reply is not JSON")
            )
        try:
            statement = verify_envelope(self.public_key, envelope)
        except SignatureError as exc:
            return PullResult("refused", number, version, self._fail("glossary_signature", str(exc)))
        if statement_expired(statement):
            code = self._fail(
                "glossary_expired",
                f"server sent glossary version {statement.number} whose signature expired at "
                f"{statement.expires_at}: refusing it, keeping the installed version",
            )
            return PullResult("refused", number, version, code)
        if self.installed is not None:
            current = self.installed.statement
            if statement.number < current.number:
                code = self._fail(
                    "glossary_downgrade",
                    f"server sent glossary version {statement.number}, older than installed {current.number}",
                )
                return PullResult("refused", number, version, code)
            if statement.number == current.number:
                if statement.sha256 != current.sha256:
                    code = self._fail(
                        "glossary_conflict", f"two different contents for version {current.number}"
                    )
                    return PullResult("refused", number, version, code)
                if (statement.expires_at or "") > (current.expires_at or ""):
                    self._store_renewal(body, statement)
                self._save_etag(etag)
                return PullResult("not_modified", number, version)
        try:
            glossary = Glossary.from_dict(envelope["glossary"])
        except GlossaryError as exc:
            return PullResult("refused", number, version, self._fail("glossary_schema", str(exc)))
        try:
            self.store.install(body)
        except OSError as exc:
            return PullResult(
                "failed", number, version, self._fail("disk_write", f"cannot store glossary: {exc}")
            )
        self._save_etag(etag)
        self.installed = InstalledGlossary(statement, glossary)
        _LOGGER.info("installed glossary version %d (%s)", statement.number, statement.version)
        if self.on_glossary is not None:
            self.on_glossary(self.installed)
        return PullResult("updated", statement.number, statement.version)

    def _store_renewal(self, body: bytes, statement: SignedStatement) -> None:
        """The same version with a renewed expiry: keep the fresher signed statement."""
        try:
            self.store.install(body)
        except OSError as exc:
            self._fail("disk_write", f"cannot store the renewed glossary statement: {exc}")
            return
        assert self.installed is not None
        self.installed = InstalledGlossary(statement, self.installed.glossary)

    def check_expiry(self) -> str | None:
        """Warn while the installed glossary's signed statement is expired (it stays in use)."""
        if self.installed is None or not statement_expired(self.installed.statement):
            return None
        return self._fail(
            "glossary_expired",
            f"the installed glossary version {self.installed.statement.number} expired at "
            f"{self.installed.statement.expires_at} and the server has not renewed it; keeping it in use",
        )

    def _save_etag(self, etag: str | None) -> None:
        path = self.store.directory / ETAG_FILE
        if etag and etag.isascii():
            write_private(path, etag.encode("ascii"))
        else:
            path.unlink(missing_ok=True)

    def rollback_local(self) -> InstalledGlossary:
        """Go back to the previous installed version (until the server publishes a newer one)."""
        self.installed = self.store.rollback()
        return self.installed

    # -- usage --------------------------------------------------------------------------------

    async def send_usage(self, *, force: bool = False) -> tuple[int, int]:
        """Send pending batches (respecting backoff unless ``force``); returns (batches, turns) sent."""
        sent = turns = 0
        for _ in range(self.options.max_batches_per_round):
            # Outbox calls commit to disk (fsync): keep them off the event loop.
            batch = await asyncio.to_thread(self.outbox.next_batch)
            if batch is None:
                break
            if not force and batch.next_attempt_at > time.time():
                break
            try:
                response = await self._http.post(
                    f"{self.server_url}{api.USAGE}",
                    content=batch.body,
                    headers={**self._headers, "Content-Type": "application/json"},
                )
            except httpx.HTTPError as exc:
                await asyncio.to_thread(self.outbox.mark_failed, batch.batch_id)
                self._fail("server_unreachable", f"usage: {exc!r}")
                break
            if response.status_code == 200:
                await asyncio.to_thread(self.outbox.mark_sent, batch.batch_id)
                sent += 1
                turns += batch.turns
                continue
            if response.status_code in (400, 413, 422):
                # Malformed for this server: retrying can never succeed, and holding it would block
                # every later batch. The counts are lost and IT sees the code.
                await asyncio.to_thread(self.outbox.drop_batch, batch.batch_id)
                self._fail("usage_rejected", f"usage batch refused: HTTP {response.status_code}")
                continue
            await asyncio.to_thread(self.outbox.mark_failed, batch.batch_id)
            self._fail(
                "unauthorized" if response.status_code == 401 else "server_error",
                f"usage: HTTP {response.status_code}",
            )
            break
        return sent, turns

    # -- heartbeat ----------------------------------------------------------------------------

    def heartbeat_payload(self) -> dict[str, Any]:
        """What the heartbeat reports (no conversation data)."""
        number, version = self._installed_ids()
        try:
            free = shutil.disk_usage(
                self.store.directory if self.store.directory.exists() else Path.cwd()
            ).free
        except OSError:
            free = None
        extra: dict[str, Any] = {}
        if self.device_report is not None:
            try:
                extra = self.device_report()
            except Exception as exc:  # the report is an aid: the heartbeat goes out without it
                _LOGGER.warning("pack report for the heartbeat failed: %s", type(exc).__name__)
        fields: dict[str, Any] = {
            "app_version": self.options.app_version,
            "glossary_version": version,
            "glossary_number": number,
            "pack_ids": sorted(self._pack_ids()),
            "free_disk_bytes": free,
            "last_error_code": self.last_error_code,
        }
        try:
            payload = HeartbeatIn(**fields, **extra)
        except ValidationError as exc:  # a pack report the server would refuse: send the basics
            _LOGGER.warning("pack report left out of the heartbeat: %d invalid fields", exc.error_count())
            payload = HeartbeatIn(**fields)
        return payload.model_dump(mode="json")

    async def heartbeat(self) -> dict[str, Any] | None:
        """Report the device state; returns the server's reply (server time, wanted packs) or None."""
        try:
            response = await self._http.post(
                f"{self.server_url}{api.HEARTBEAT}", json=self.heartbeat_payload(), headers=self._headers
            )
        except httpx.HTTPError as exc:
            self._fail("server_unreachable", f"heartbeat: {exc!r}")
            return None
        if response.status_code != 200:
            self._fail(
                "unauthorized" if response.status_code == 401 else "server_error",
                f"heartbeat: HTTP {response.status_code}",
            )
            return None
        try:
            reply: dict[str, Any] = HeartbeatOut.model_validate_json(response.content).model_dump(mode="json")
        except ValidationError as exc:
            self._fail("server_error", f"heartbeat: malformed reply ({exc.error_count()} errors)")
            return None
        if self.on_heartbeat_reply is not None:
            self.on_heartbeat_reply(reply)
        return reply

    # -- rounds -------------------------------------------------------------------------------

    async def sync_once(self, *, force_usage: bool = False) -> SyncReport:
        """Pull, send usage, heartbeat. The heartbeat carries this round's error code, if any."""
        self.last_error_code = None
        pull = await self.pull_glossary()
        codes = [pull.error_code] if pull.error_code else []
        expired = self.check_expiry()
        if expired and expired not in codes:
            codes.append(expired)
        batches, turns = await self.send_usage(force=force_usage)
        if self.last_error_code and self.last_error_code not in codes:
            codes.append(self.last_error_code)
        if codes:
            self.last_error_code = codes[0]
        reply = await self.heartbeat()
        return SyncReport(pull, batches, turns, reply is not None, codes)

    async def run(self, stop: asyncio.Event) -> None:
        """Sync every ``interval_s`` until ``stop`` is set (errors are logged, never raised)."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.outbox.compact)
                await self.sync_once()
            except Exception as exc:  # the counter keeps working whatever the network does
                self._fail("sync_crashed", f"sync round failed: {exc!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.options.interval_s)


# --- enrollment ----------------------------------------------------------------------------------
