"""Pydantic schemas of the HTTP API.

Every payload a device sends has ``extra="forbid"`` and only closed vocabularies or id-shaped
strings: usage carries counts and ids, never text, so a field that could hold a resident's words
does not exist. Admin outputs never contain a token or its hash.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.fleet import PackOffer


def pack_offer(row: Any) -> PackOffer:
    """The offer of a stored pack release (``contracts.fleet.PackOffer``)."""
    return PackOffer(
        id=row.pack_id, version=row.version, size_bytes=row.size_bytes, kind=row.kind,
        languages=json.loads(row.languages),
    )  # fmt: skip


class PackReleasePublic(BaseModel):
    """An uploaded pack release, for admins."""

    pack_id: str
    version: str
    kind: str
    languages: list[str]
    size_bytes: int
    uploaded_at: dt.datetime
    uploaded_by: str
    all_sites: bool = True
    """Offered to every site; else held, offered only to the sites IT pushed the pack to."""

    @classmethod
    def from_row(cls, row: Any) -> PackReleasePublic:
        return cls(
            pack_id=row.pack_id, version=row.version, kind=row.kind, languages=json.loads(row.languages),
            size_bytes=row.size_bytes, uploaded_at=row.uploaded_at, uploaded_by=row.uploaded_by,
            all_sites=row.all_sites,
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
