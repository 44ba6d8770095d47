"""What a counter device and the central server send each other: the ``/api/v1`` payloads.

Every payload a device sends has ``extra="forbid"`` and only closed vocabularies or id-shaped strings:
usage carries counts and ids, never text, so a field that could hold a resident's words does not exist.
The server validates requests with these models, and the device builds and reads them with the same ones.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import field
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

from contracts.usage import DURATION_LABELS, ITEM_ID_PATTERN, LANGUAGE_CODE_PATTERN, Direction, UsageKind

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


class PackInfo(DeviceModel):
    """One installed pack as a device reports it: id-shaped codes only (the attribution text comes from
    the server's own copy of the pack's manifest, never from a device)."""

    id: Code
    kind: Literal["asr", "mt", "tts"]
    languages: Annotated[list[Code], Field(max_length=120)] = []
    directions: Annotated[list[tuple[LanguageCode, LanguageCode]], Field(max_length=200)] | None = None
    license: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:+\-]{1,64}$")] = "LicenseRef-unknown"
    machine_voice: bool = False


class HeartbeatIn(DeviceModel):
    """What a device reports about itself (no conversation data)."""

    app_version: Code
    glossary_version: Code | None = None
    glossary_number: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None  # database INTEGER
    pack_ids: Annotated[list[Code], Field(max_length=100)] = []
    packs: Annotated[list[PackInfo], Field(max_length=100)] = []
    """Installed packs with kind, languages and licence (the console's packs page)."""
    languages: Annotated[list[LanguageCode], Field(max_length=20)] = []
    """The device's enabled counter languages."""
    free_disk_bytes: Annotated[int, Field(ge=0, le=2**62)] | None = None  # database BIGINT
    last_error_code: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")] | None = None


@dataclass(frozen=True)
class PackOffer:
    """A pack release devices should hold (the newest upload of its id): ``PackOffer(id, version)``."""

    id: str
    version: str
    size_bytes: int | None = None
    kind: str = ""
    languages: list[str] = field(default_factory=list)


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


class GlossaryEnvelope(BaseModel):
    """``GET /api/v1/glossary/current``: the signed glossary (see ``glossary.signing``)."""

    version: str
    number: int
    published_at: str
    sha256: str
    expires_at: str | None = None
    glossary: dict[str, Any]
    signature: str


class Health(BaseModel):
    """Liveness: the database answers; the current glossary number, if any."""

    status: Literal["ok"]
    database: Literal["ok"]
    glossary_number: int | None
