"""The console's packs page: per site and device, which ASR, MT and voice packs are installed, what its
counter languages still lack, and each pack's licence and attribution.

Devices report id-shaped facts only (pack id, kind, languages, SPDX licence, machine voice or not); the
attribution text shown comes from the manifests of the packs this server distributes, never from a
device.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glossary.languages import COUNTER_LANGUAGES, STAFF_LANGUAGE

KINDS = ("asr", "mt", "tts")


@dataclass(frozen=True)
class DevicePacks:
    """One device's packs by kind and what its languages lack."""

    site: str
    device: str
    reported: bool
    packs: dict[str, list[dict[str, Any]]]
    lacking: dict[str, list[str]] = field(default_factory=dict)
    """``asr`` / ``mt`` / ``voice`` → languages without one (``mt``: ja⇄x in either direction)."""
    machine_voice: list[str] = field(default_factory=list)
    """Languages spoken only by the low-quality machine voice."""


def _covers_mt(packs: Iterable[dict[str, Any]], source: str, target: str) -> bool:
    for pack in packs:
        directions = pack.get("directions")
        if directions is not None:
            if [source, target] in [list(d) for d in directions]:
                return True
        elif source in pack.get("languages", ()) and target in pack.get("languages", ()):
            return True
    return False


def device_packs(site: str, device: str, packs_json: str, languages_json: str) -> DevicePacks:
    """The packs page row of one device from what its heartbeat stored."""
    packs: list[dict[str, Any]] = json.loads(packs_json or "[]")
    languages = json.loads(languages_json or "[]") or list(COUNTER_LANGUAGES)
    by_kind = {
        kind: sorted((p for p in packs if p.get("kind") == kind), key=lambda p: p["id"]) for kind in KINDS
    }
    lacking: dict[str, list[str]] = {"asr": [], "mt": [], "voice": []}
    machine: list[str] = []
    for language in languages:
        if not any(language in p.get("languages", ()) for p in by_kind["asr"]):
            lacking["asr"].append(language)
        if language != STAFF_LANGUAGE and not (
            _covers_mt(by_kind["mt"], STAFF_LANGUAGE, language)
            and _covers_mt(by_kind["mt"], language, STAFF_LANGUAGE)
        ):
            lacking["mt"].append(language)
        voices = [p for p in by_kind["tts"] if language in p.get("languages", ())]
        if not voices:
            lacking["voice"].append(language)
        elif all(p.get("machine_voice") for p in voices):
            machine.append(language)
    return DevicePacks(site, device, bool(packs), by_kind, lacking, machine)


def attributions(releases: Sequence[Any]) -> dict[str, dict[str, str]]:
    """Pack id → ``{spdx, attribution, source_url}`` from the manifests of the server's pack releases."""
    out: dict[str, dict[str, str]] = {}
    for row in releases:
        licence = (json.loads(row.manifest or "{}") or {}).get("license") or {}
        out[row.pack_id] = {
            "spdx": str(licence.get("spdx", "")),
            "attribution": str(licence.get("attribution", "")),
            "source_url": str(licence.get("source_url", "")),
        }
    return out


@dataclass(frozen=True)
class OfferState:
    """To whom a pack's newest release is offered, and an older release still offered to every site."""

    version: str
    all_sites: bool
    sites: list[str]
    """The sites IT pushed the pack to (they get the newest release)."""
    older_version: str | None
    """When the newest release is held: the newest older release offered to every site, if any."""


def offer_states(releases: Sequence[Any], pushes: dict[str, list[str]]) -> dict[str, OfferState]:
    """Pack id → the offer of its newest release (``releases`` ordered by id, ``pushes``: pack id → the
    sites it was pushed to), so that the page is truthful for each release."""
    newest: dict[str, Any] = {}
    older_all: dict[str, str] = {}
    for row in releases:  # ordered by id: the last one wins
        previous = newest.get(row.pack_id)
        if previous is not None and previous.all_sites:
            older_all[row.pack_id] = previous.version
        newest[row.pack_id] = row
    return {
        pack_id: OfferState(
            version=row.version,
            all_sites=row.all_sites,
            sites=list(pushes.get(pack_id, [])),
            older_version=None if row.all_sites else older_all.get(pack_id),
        )
        for pack_id, row in newest.items()
    }


#: The ``lacking`` key of each pack kind.
_LACK_KEY = {"asr": "asr", "mt": "mt", "tts": "voice"}


@dataclass(frozen=True)
class PushChoice:
    """A stored pack not yet offered to a site, and what pushing it would add there."""

    pack_id: str
    version: str
    kind: str
    languages: list[str]
    fills: list[str]
    """Languages of the site's counters that lack this kind of pack and that it covers."""
    outside: list[str]
    """Languages it covers that no counter of the site uses (pushing is allowed all the same)."""


@dataclass(frozen=True)
class SitePush:
    """One site's push form: the packs it could be sent."""

    site_id: int
    site: str
    choices: list[PushChoice]


def push_choices(
    site_id: int,
    site: str,
    devices: Sequence[DevicePacks],
    languages: Iterable[str],
    candidates: Sequence[Any],
) -> SitePush:
    """The packs (``candidates``: newest releases not offered to the site) one site could be sent, each with
    the lacking languages it fills over the site's ``devices`` and the languages outside its counters."""
    used = set(languages) or set(COUNTER_LANGUAGES)
    choices = []
    for row in candidates:
        pack_languages = list(json.loads(row.languages or "[]"))
        key = _LACK_KEY.get(row.kind, "")
        lacking = {code for d in devices for code in d.lacking.get(key, ())}
        if row.kind == "tts":  # a real voice also improves on the machine voice
            lacking |= {code for d in devices for code in d.machine_voice}
        fills = [code for code in pack_languages if code in lacking]
        outside = [code for code in pack_languages if code not in used and code != STAFF_LANGUAGE]
        choices.append(PushChoice(row.pack_id, row.version, row.kind, pack_languages, fills, outside))
    return SitePush(site_id, site, choices)
