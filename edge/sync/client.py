"""Device side of fleet sync: signed glossary pulls, usage batches, heartbeats, enrollment.

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
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.errors import SyncError
from edge.sync.outbox import Outbox
from edge.sync.server_url import check_server_url
from glossary.errors import GlossaryError, SignatureError
from glossary.schema import Glossary
from glossary.signing import SignedStatement, load_public_key, statement_expired, verify_envelope
from madoguchi.files import fsync_dir

_LOGGER = logging.getLogger(__name__)

API: Final = "/api/v1"
CURRENT_FILE: Final = "current.json"
PREVIOUS_FILE: Final = "previous.json"
ETAG_FILE: Final = "etag"
SERVER_FILE: Final = "server.json"

PullStatus = Literal["updated", "not_modified", "refused", "failed"]


# --- the glossary on disk ------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalledGlossary:
    """A verified glossary from the store with the statement that vouches for it."""

    statement: SignedStatement
    glossary: Glossary


def _fsync_dir(path: Path) -> None:
    """Best effort here: the glossary store keeps its previous version whatever happens."""
    with contextlib.suppress(OSError):
        fsync_dir(path)


class GlossaryStore:
    """``current.json`` and ``previous.json`` (signed envelopes) in the device's glossary directory."""

    def __init__(self, directory: Path, public_key: Ed25519PublicKey) -> None:
        """Keep envelopes in ``directory``; every read verifies them with ``public_key``."""
        self.directory = Path(directory)
        self.public_key = public_key

    def _read(self, name: str) -> InstalledGlossary | None:
        path = self.directory / name
        try:
            envelope = json.loads(path.read_bytes())
            statement = verify_envelope(self.public_key, envelope)
            return InstalledGlossary(statement, Glossary.from_dict(envelope["glossary"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, GlossaryError) as exc:
            _LOGGER.warning("stored glossary %s is unusable: %s", path, exc)
            return None

    def load(self) -> InstalledGlossary | None:
        """The current verified glossary, falling back to the previous one; None when neither verifies."""
        return self._read(CURRENT_FILE) or self._read(PREVIOUS_FILE)

    def load_previous(self) -> InstalledGlossary | None:
        """The verified previous version, if any."""
        return self._read(PREVIOUS_FILE)

    def install(self, envelope_bytes: bytes) -> None:
        """Atomically make ``envelope_bytes`` the current version, keeping the old one as previous."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(".glossary-*.tmp"):  # left by an install cut short by a power cut
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".glossary-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(envelope_bytes)
                handle.flush()
                os.fsync(handle.fileno())
            current = self.directory / CURRENT_FILE
            if current.exists():
                os.replace(current, self.directory / PREVIOUS_FILE)
            os.replace(tmp, current)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)

    def rollback(self) -> InstalledGlossary:
        """Swap current and previous (IT's local undo).

        Raises:
            SyncError: there is no usable previous version.
        """
        previous = self.load_previous()
        if previous is None:
            raise SyncError(f"no previous glossary in {self.directory} to roll back to")
        current = self.directory / CURRENT_FILE
        prev = self.directory / PREVIOUS_FILE
        swap = self.directory / ".swap.tmp"
        os.replace(prev, swap)
        if current.exists():
            os.replace(current, prev)
        os.replace(swap, current)
        _fsync_dir(self.directory)
        (self.directory / ETAG_FILE).unlink(missing_ok=True)
        return previous


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
            response = await self._http.get(f"{self.server_url}{API}/glossary/current", headers=headers)
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
            path.write_text(etag, encoding="ascii")
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
                    f"{self.server_url}{API}/usage",
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
        return {
            "app_version": self.options.app_version,
            "glossary_version": version,
            "glossary_number": number,
            "pack_ids": sorted(self._pack_ids()),
            "free_disk_bytes": free,
            "last_error_code": self.last_error_code,
        }

    async def heartbeat(self) -> dict[str, Any] | None:
        """Report the device state; returns the server's reply (server time, wanted packs) or None."""
        try:
            response = await self._http.post(
                f"{self.server_url}{API}/heartbeat", json=self.heartbeat_payload(), headers=self._headers
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
        reply: dict[str, Any] = response.json()
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
    if pack_key is not None and load_public_key(pack_key).public_bytes_raw() == (
        load_public_key(key_bytes).public_bytes_raw()
    ):
        raise SyncError(
            f"{pack_key_file} is the glossary key: the pack key must be a separate key "
            "(madoguchi server keygen --purpose pack), so a server key alone cannot push model packs"
        )
    paths = enrollment_paths(home, token_path, pubkey_path)

    async def _pull() -> PullResult:
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

    result = asyncio.run(_pull())
    if result.status == "failed" and result.error_code == "unauthorized":
        raise SyncError("the server refused the token (enroll the device again: madoguchi server enroll)")
    if result.status == "failed" and result.error_code == "server_unreachable":
        raise SyncError(f"cannot reach {server_url} (check the URL and the network)")
    if result.status == "refused":
        raise SyncError(
            f"the server's glossary does not verify with {pubkey_file} ({result.error_code}); "
            "check that the key file is the server's glossary-signing.pub"
        )
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    paths.pubkey_path.write_bytes(key_bytes)
    if pack_key is not None:
        paths.pack_key_path.write_bytes(pack_key)
    (home / SERVER_FILE).write_text(json.dumps({"server_url": server_url.rstrip("/")}), encoding="utf-8")
    _LOGGER.info("enrolled with %s (glossary %s)", server_url, result.version)
    return result


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
