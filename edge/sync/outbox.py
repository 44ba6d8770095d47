"""The usage outbox: counters of finished turns, kept in SQLite on the device until the server has them.

Design decisions:

- **Counts and ids only.** A turn becomes a handful of counters (turn, term ids, phrase id,
  duration bucket, flags) keyed by (day, source, target, direction, kind, key). Keys are checked
  against closed patterns before they are stored, so no text can enter the outbox by mistake.
- **Daily totals at write time.** Each increment is an upsert into its day's cell, so the outbox
  grows with days × distinct counters, never with the number of turns. Days older than
  ``max_age_days`` that never reached the server are dropped by :meth:`Outbox.compact` (logged
  with the number of turns lost), which bounds the file on a device that is never connected.
- **Power cuts.** WAL journal, ``synchronous=FULL``, one transaction per turn: after ``kill -9``
  or a power cut the outbox holds every turn whose ``add_turn`` returned.
- **Exactly once.** Sending first *freezes* counters into a batch with a random UUID (one
  transaction: counters out, batch in). The batch is re-sent with the same id until the server
  acknowledges it, and the server counts an id once; so a lost reply never double-counts and a
  crash between the two never loses counts. One batch is in flight at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from contracts.fleet import UsageBatchIn, UsageRow
from contracts.usage import (
    CELL_FIELDS,
    DURATION_BUCKETS,
    ITEM_ID_PATTERN,
    LANGUAGE_CODE_PATTERN,
    Direction,
    cell_row,
)
from edge.errors import SyncError
from madoguchi.files import private_dir, private_file

_LOGGER = logging.getLogger(__name__)

_LANG_RE: Final = re.compile(LANGUAGE_CODE_PATTERN)
_ITEM_ID_RE: Final = re.compile(ITEM_ID_PATTERN)
_STAFF_LANGUAGES: Final = frozenset({"ja", "ja-easy"})

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS counters (
    day TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, direction TEXT NOT NULL,
    kind TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (day, source, target, direction, kind, key)
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY, created_at REAL NOT NULL, body TEXT NOT NULL, turns INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL DEFAULT 0
);
"""


def duration_bucket(seconds: float) -> str:
    """The bucket label of a duration in seconds."""
    for upper, label in DURATION_BUCKETS:
        if seconds < upper:
            return label
    return DURATION_BUCKETS[-1][1]


def direction_of(source: str, target: str) -> Direction:
    """``to_resident`` when the clerk speaks (Japanese source), else ``to_staff``."""
    return "to_resident" if source in _STAFF_LANGUAGES else "to_staff"


@dataclass(frozen=True)
class TurnUsage:
    """What one turn contributes to the counts: languages, ids and a duration, never text."""

    source: str
    target: str
    day: dt.date = field(default_factory=dt.date.today)
    term_ids: tuple[str, ...] = ()
    fallback_term_ids: tuple[str, ...] = ()
    phrase_id: str | None = None
    duration_s: float | None = None
    langid_mismatch: bool = False
    flagged: bool = False

    @classmethod
    def from_turn(
        cls,
        result: Any,
        *,
        day: dt.date | None = None,
        phrase_id: str | None = None,
        langid_mismatch: bool = False,
    ) -> TurnUsage:
        """Extract the countable facts of an ``edge.turn.result.TurnResult`` (reads no text field)."""
        timings: Mapping[str, float] = getattr(result, "timings_ms", {}) or {}
        first = timings.get("first_output", timings.get("total"))
        return cls(
            source=str(result.source_language),
            target=str(result.target_language),
            day=day or dt.date.today(),
            term_ids=tuple(getattr(result, "terms_applied", ()) or ()),
            fallback_term_ids=tuple(getattr(result, "terms_fallback", ()) or ()),
            phrase_id=phrase_id,
            duration_s=None if first is None else float(first) / 1000.0,
            langid_mismatch=langid_mismatch,
            flagged=bool(getattr(result, "flagged", False)),
        )

    def counters(self) -> list[tuple[str, str, int]]:
        """The (kind, key, count) increments of this turn.

        Raises:
            SyncError: a language code or id does not have the shape of one (so cannot be text).
        """
        for code in (self.source, self.target):
            if not _LANG_RE.match(code):
                raise SyncError(f"usage: {code[:12]!r} is not a language code; turn not counted")
        rows: list[tuple[str, str, int]] = [("turn", "", 1)]
        for kind, ids in (("term", self.term_ids), ("term_fallback", self.fallback_term_ids)):
            for term_id, n in _tally(ids).items():
                rows.append((kind, _checked_id(term_id), n))
        if self.phrase_id:
            rows.append(("phrase", _checked_id(self.phrase_id), 1))
        if self.duration_s is not None:
            rows.append(("duration", duration_bucket(self.duration_s), 1))
        if self.langid_mismatch:
            rows.append(("langid_mismatch", "", 1))
        if self.flagged:
            rows.append(("flagged", "", 1))
        return rows


def _tally(ids: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in ids:
        out[item] = out.get(item, 0) + 1
    return out


def _checked_id(value: str) -> str:
    if not _ITEM_ID_RE.match(value) or len(value) > 96:
        raise SyncError("usage: a term or phrase id has an unexpected shape; turn not counted")
    return value


@dataclass(frozen=True)
class OutboxOptions:
    """Limits of the outbox."""

    max_batch_rows: int = 1000
    """Counters per batch (rows; the server accepts up to 2000 and 256 KiB)."""

    max_age_days: int = 400
    """Unsent days older than this are dropped by ``compact`` (days)."""

    backoff_initial_s: float = 5.0
    """First retry delay after a failed send (seconds); doubles each failure."""

    backoff_max_s: float = 900.0
    """Longest retry delay (seconds)."""


@dataclass(frozen=True)
class Batch:
    """A frozen set of counters with the id the server deduplicates on."""

    batch_id: str
    body: bytes
    turns: int
    attempts: int
    next_attempt_at: float


class Outbox:
    """SQLite outbox of usage counters (thread-safe; one connection guarded by a lock)."""

    def __init__(self, path: Path, options: OutboxOptions | None = None) -> None:
        """Open (or create) the outbox file, in WAL mode with full fsync.

        Raises:
            SyncError: the file cannot be opened as an SQLite database.
        """
        self.path = Path(path)
        self.options = options or OutboxOptions()
        self._lock = threading.Lock()
        try:
            private_dir(self.path.parent)
            private_file(self.path)  # SQLite gives its -wal and -shm files the database file's mode
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    private_file(side)
        except OSError as exc:
            raise SyncError(f"usage outbox {self.path} cannot be created: {exc}") from exc
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SyncError(
                f"usage outbox {self.path} cannot be opened: {exc} (delete it if corrupt)"
            ) from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------

    def add_turn(self, usage: TurnUsage) -> None:
        """Add one turn's counters in one transaction (durable when this returns)."""
        rows = usage.counters()
        day = usage.day.isoformat()
        direction = direction_of(usage.source, usage.target)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO counters (day, source, target, direction, kind, key, count) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (day, source, target, direction, kind, key) "
                    "DO UPDATE SET count = count + excluded.count",
                    [(day, usage.source, usage.target, direction, kind, key, n) for kind, key, n in rows],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- sending ------------------------------------------------------------------------------

    def next_batch(self) -> Batch | None:
        """The batch in flight, or a new one frozen from the counters; None when nothing is pending."""
        with self._lock:
            row = self._db.execute(
                "SELECT batch_id, body, turns, attempts, next_attempt_at FROM batches "
                "ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is not None:
                return Batch(row[0], row[1].encode("utf-8"), row[2], row[3], row[4])
            self._db.execute("BEGIN IMMEDIATE")
            try:
                counters = self._db.execute(
                    "SELECT rowid, day, source, target, direction, kind, key, count FROM counters "
                    "ORDER BY day, source, target, direction, kind, key LIMIT ?",
                    (self.options.max_batch_rows,),
                ).fetchall()
                if not counters:
                    self._db.execute("COMMIT")
                    return None
                batch_id = str(uuid.uuid4())
                rows = [UsageRow(**cell_row(cell, count)) for _rowid, *cell, count in counters]
                body = UsageBatchIn(batch_id=uuid.UUID(batch_id), rows=rows).model_dump_json()
                turns = sum(c[7] for c in counters if c[5] == "turn")
                self._db.executemany("DELETE FROM counters WHERE rowid = ?", [(c[0],) for c in counters])
                self._db.execute(
                    "INSERT INTO batches (batch_id, created_at, body, turns) VALUES (?, ?, ?, ?)",
                    (batch_id, time.time(), body, turns),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return Batch(batch_id, body.encode("utf-8"), turns, 0, 0.0)

    def mark_sent(self, batch_id: str) -> None:
        """Forget a batch the server acknowledged."""
        with self._lock:
            self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def mark_failed(self, batch_id: str, now: float | None = None) -> float:
        """Record a failed send; returns the delay (seconds) before the next attempt."""
        now = time.time() if now is None else now
        with self._lock:
            row = self._db.execute("SELECT attempts FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
            attempts = (row[0] if row else 0) + 1
            delay = min(self.options.backoff_max_s, self.options.backoff_initial_s * 2 ** (attempts - 1))
            # Jitter spreads a fleet that lost the server at the same moment.
            delay *= 0.5 + 0.5 * (uuid.uuid4().int % 1000) / 1000
            self._db.execute(
                "UPDATE batches SET attempts = ?, next_attempt_at = ? WHERE batch_id = ?",
                (attempts, now + delay, batch_id),
            )
        return delay

    def drop_batch(self, batch_id: str) -> None:
        """Drop a batch the server refused as malformed (it can never succeed)."""
        with self._lock:
            self._db.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
        _LOGGER.warning("usage batch %s refused by the server and dropped", batch_id)

    # -- upkeep -------------------------------------------------------------------------------

    def compact(self, today: dt.date | None = None) -> int:
        """Drop unsent days older than ``max_age_days``; returns the number of turns dropped."""
        cutoff = ((today or dt.date.today()) - dt.timedelta(days=self.options.max_age_days)).isoformat()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            (turns,) = self._db.execute(
                "SELECT COALESCE(SUM(count), 0) FROM counters WHERE day < ? AND kind = 'turn'", (cutoff,)
            ).fetchone()
            self._db.execute("DELETE FROM counters WHERE day < ?", (cutoff,))
            self._db.execute("COMMIT")
        if turns:
            _LOGGER.warning(
                "usage outbox: dropped %d turns older than %s that never reached the server", turns, cutoff
            )
        return int(turns)

    def pending(self) -> dict[tuple[str, str, str, str, str, str], int]:
        """Everything not yet acknowledged (counters and batches in flight), summed per cell."""
        with self._lock:
            rows = self._db.execute(
                "SELECT day, source, target, direction, kind, key, count FROM counters"
            ).fetchall()
            bodies = [b for (b,) in self._db.execute("SELECT body FROM batches").fetchall()]
        out: dict[tuple[str, str, str, str, str, str], int] = {}
        for *cell, count in rows:
            key = tuple(cell)
            out[key] = out.get(key, 0) + count  # type: ignore[index]
        for body in bodies:
            for r in json.loads(body)["rows"]:
                key = tuple(r[name] for name in CELL_FIELDS)
                out[key] = out.get(key, 0) + r["count"]  # type: ignore[index]
        return out

    def pending_turns(self) -> int:
        """Turns not yet acknowledged by the server."""
        return sum(n for cell, n in self.pending().items() if cell[4] == "turn")
