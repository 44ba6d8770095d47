"""Pydantic schemas of the HTTP API.

Every payload a device sends has ``extra="forbid"`` and only closed vocabularies or id-shaped
strings: usage carries counts and ids, never text, so a field that could hold a resident's words
does not exist. Admin outputs never contain a token or its hash.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from glossary.usage import (
    DURATION_LABELS,
    ITEM_ID_PATTERN,
    LANGUAGE_CODE_PATTERN,
    Direction,
    UsageKind,
)

#: Language codes (``ja``, ``pt``, ``ja-easy``); a closed shape, not free text.
LanguageCode = Annotated[str, Field(pattern=LANGUAGE_CODE_PATTERN, max_length=8)]
#: Term and phrase ids look like ``res.juminhyo_copy``.
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN, max_length=96)]
#: Machine codes (error codes, pack ids, versions): short, no spaces.
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:+\-]{1,80}$")]

#: End-of-speech → first output, bucketed so a duration never identifies a turn.
DURATION_BUCKETS: Final[tuple[str, ...]] = DURATION_LABELS

_KEYLESS_KINDS: Final = frozenset({"turn", "langid_mismatch", "flagged"})
_ID_KINDS: Final = frozenset({"term", "term_fallback", "phrase"})


class DeviceModel(BaseModel):
    """Base of everything a device sends: unknown fields are an error (422)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageRow(DeviceModel):
    """One counter: how many times ``kind``/``key`` happened that day for that pair and direction."""

    day: dt.date
    source: LanguageCode
    target: LanguageCode
    direction: Direction
    kind: UsageKind
    key: Annotated[str, Field(max_length=96)] = ""
    count: Annotated[int, Field(ge=1, le=1_000_000)]

    @model_validator(mode="after")
    def _key_matches_kind(self) -> UsageRow:
        if self.kind in _KEYLESS_KINDS:
            if self.key:
                raise ValueError(f"kind {self.kind!r} takes no key")
        elif self.kind in _ID_KINDS:
            _check_item_id(self.key)
        elif self.kind == "duration" and self.key not in DURATION_BUCKETS:
            raise ValueError(f"duration key must be one of {', '.join(DURATION_BUCKETS)}")
        return self


def _check_item_id(value: str) -> None:
    if not re.fullmatch(ITEM_ID_PATTERN, value):
        raise ValueError("key must be a term or phrase id like 'res.juminhyo_copy'")


class UsageBatchIn(DeviceModel):
    """A batch of counters; ``batch_id`` makes a retry count once."""

    batch_id: uuid.UUID
    rows: Annotated[list[UsageRow], Field(min_length=1)]


class UsageBatchOut(BaseModel):
    """Reply to a usage batch: ``duplicate`` when the batch was already counted."""

    batch_id: uuid.UUID
    accepted_rows: int
    duplicate: bool


class HeartbeatIn(DeviceModel):
    """What a device reports about itself (no conversation data)."""

    app_version: Code
    glossary_version: Code | None = None
    glossary_number: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None  # database INTEGER
    pack_ids: Annotated[list[Code], Field(max_length=100)] = []
    free_disk_bytes: Annotated[int, Field(ge=0, le=2**62)] | None = None  # database BIGINT
    last_error_code: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")] | None = None


class PackOffer(BaseModel):
    """A pack release devices should hold (the newest upload of its id)."""

    id: str
    version: str
    kind: str
    languages: list[str]
    size_bytes: int

    @classmethod
    def from_row(cls, row: Any) -> PackOffer:
        return cls(
            id=row.pack_id, version=row.version, kind=row.kind, languages=json.loads(row.languages),
            size_bytes=row.size_bytes,
        )  # fmt: skip


class HeartbeatOut(BaseModel):
    """Reply to a heartbeat: the server clock and the packs the device should install."""

    server_time: dt.datetime
    wanted_packs: list[str] = []
    """Offered pack ids the device did not report."""
    pack_offers: list[PackOffer] = []
    """Every pack release devices should hold (id, version, size)."""


class PackOffersOut(BaseModel):
    """``GET /api/v1/packs``."""

    data: list[PackOffer]
    count: int


class PackManifestOut(BaseModel):
    """A pack's ``pack.json``, the pack key's signature over it and any rollback statement to it.

    The server relays these; devices check them with the pack key (see ``glossary.pack_signing``).
    """

    pack: dict[str, Any]
    signature: str
    signed_at: str
    rollback: dict[str, Any] | None = None


class PackReleasePublic(BaseModel):
    """An uploaded pack release, for admins."""

    pack_id: str
    version: str
    kind: str
    languages: list[str]
    size_bytes: int
    uploaded_at: dt.datetime
    uploaded_by: str

    @classmethod
    def from_row(cls, row: Any) -> PackReleasePublic:
        return cls(
            pack_id=row.pack_id, version=row.version, kind=row.kind, languages=json.loads(row.languages),
            size_bytes=row.size_bytes, uploaded_at=row.uploaded_at, uploaded_by=row.uploaded_by,
        )  # fmt: skip


class DevicePackStatus(BaseModel):
    """Which offered packs one device reported installed, and which it lacks."""

    site: str
    name: str
    installed: list[str]
    missing: list[str]
    last_seen_at: dt.datetime | None


class PackStatusOut(BaseModel):
    """``GET /api/v1/admin/packs``: releases and the fleet's pack state."""

    releases: list[PackReleasePublic]
    devices: list[DevicePackStatus]


class GlossaryEnvelope(BaseModel):
    """``GET /api/v1/glossary/current``: the signed glossary (see ``glossary.signing``)."""

    version: str
    number: int
    published_at: str
    sha256: str
    expires_at: str | None = None
    glossary: dict[str, Any]
    signature: str


class GlossaryVersionPublic(BaseModel):
    """One published version as the admin sees it."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    version: str
    sha256: str
    published_at: str
    published_by: str
    note: str
    term_count: int
    phrase_count: int


class GlossaryVersionsPublic(BaseModel):
    """Published glossary versions, newest first."""

    data: list[GlossaryVersionPublic]
    count: int


class GlossaryDiffPublic(BaseModel):
    """What an upload changes compared with the current version."""

    added_terms: list[str] = []
    removed_terms: list[str] = []
    changed_terms: list[str] = []
    added_phrases: list[str] = []
    removed_phrases: list[str] = []
    changed_phrases: list[str] = []

    @property
    def empty(self) -> bool:
        """True when nothing was added, removed or changed."""
        return not any(
            (
                self.added_terms,
                self.removed_terms,
                self.changed_terms,
                self.added_phrases,
                self.removed_phrases,
                self.changed_phrases,
            )
        )


class PublishOut(BaseModel):
    """Result of an upload: the diff, and the new version unless it was a dry run."""

    diff: GlossaryDiffPublic
    warnings: list[str] = []
    published: GlossaryVersionPublic | None = None


class RollbackIn(BaseModel):
    """Which published version to make current again."""

    model_config = ConfigDict(extra="forbid")

    number: Annotated[int, Field(ge=1)]


class DevicePublic(BaseModel):
    """A device in the fleet view (never its token or token hash)."""

    id: int
    site: str
    name: str
    created_at: dt.datetime
    revoked: bool
    last_seen_at: dt.datetime | None
    stale: bool
    app_version: str | None
    glossary_version: str | None
    glossary_number: int | None
    pack_ids: list[str]
    free_disk_bytes: int | None
    last_error_code: str | None


class DevicesPublic(BaseModel):
    """Enrolled devices."""

    data: list[DevicePublic]
    count: int


class EnrollIn(BaseModel):
    """The site and device name of a device to enroll."""

    model_config = ConfigDict(extra="forbid")

    site: Annotated[str, Field(min_length=1, max_length=100)]
    device: Annotated[str, Field(min_length=1, max_length=100)]


class EnrollOut(BaseModel):
    """The token is shown once, here; the server keeps only its hash."""

    device: DevicePublic
    token: str


class UsageTotal(BaseModel):
    """Summed counters, grouped by the requested keys; ``count`` is null when under the threshold."""

    site: str | None = None
    week: str | None = None
    language: str | None = None
    kind: str
    key: str = ""
    count: int | None
    suppressed: bool


class UsageTotalsPublic(BaseModel):
    """Summed usage counters, small cells suppressed (``suppress_below``)."""

    data: list[UsageTotal]
    count: int
    suppress_below: int


class AdminTokenOut(BaseModel):
    """A short-lived admin API token (send it as ``Authorization: Bearer …``); shown once."""

    token: str
    token_type: Literal["bearer"]
    expires_at: dt.datetime


class Health(BaseModel):
    """Liveness: the database answers; the current glossary number, if any."""

    status: Literal["ok"]
    database: Literal["ok"]
    glossary_number: int | None
