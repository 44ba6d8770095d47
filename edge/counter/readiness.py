"""What the counter can do in each language: speech recognition, MT each way, a voice, what is missing.

``language_rows`` reads the loaded pipeline only (no conversation content) for ``/api/status``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from edge.turn.speak import voice_packs_to_install
from glossary.languages import ENGLISH_NAMES, NATIVE_NAMES, STAFF_LANGUAGE


def language_rows(pipeline: Any | None, languages: tuple[str, ...]) -> list[dict[str, Any]]:
    """One status row per enabled language: ASR, MT legs, voice, and notes on what is missing."""
    transcriber = getattr(pipeline, "transcriber", None)
    asr_languages = set(getattr(transcriber, "languages", ()) or ()) if transcriber else set()
    router = getattr(pipeline, "mt_router", None)
    voices = getattr(pipeline, "voices", {}) or {}
    return [_language_row(code, code in asr_languages, router, voices) for code in languages]


def _language_row(code: str, asr: bool, router: Any | None, voices: dict[str, Any]) -> dict[str, Any]:
    name = ENGLISH_NAMES.get(code, code)
    voice = voices.get(code) if code in voices else None
    row: dict[str, Any] = {
        "code": code,
        "native_name": NATIVE_NAMES.get(code, code),
        "english_name": name,
        "asr": asr,
        "voice": getattr(voice, "name", None) if code in voices else None,
        "voice_quality": getattr(voice, "quality", None) if code in voices else None,
        "voice_attribution": getattr(voice, "attribution", "") if code in voices else "",
    }
    notes: list[str] = []
    if not asr:
        notes.append(f"no speech recognition for {name}")
    if code != STAFF_LANGUAGE:
        notes.extend(_add_mt_legs(row, code, router))
    if row["voice_quality"] == "machine":
        packs = voice_packs_to_install(code)
        better = f"; a natural voice: `madoguchi models install {' '.join(packs)}`" if packs else ""
        notes.append(f"{name}: low-quality machine voice (espeak-ng){better}")
    if row["voice"] is None:
        notes.append(
            "no Japanese voice (Japanese is text-first)"
            if code == STAFF_LANGUAGE
            else f"no {name} voice: text only"
        )
    row["notes"] = notes
    return row


def _add_mt_legs(row: dict[str, Any], code: str, router: Any | None) -> list[str]:
    """Set the MT fields of ``row`` (ja→code, code→ja) and return a note per missing direction.

    Per direction: the engine label and one line saying which leg is real MT and which is Whisper's
    speech translation or missing (``router.route_status``).
    """
    directions = ((STAFF_LANGUAGE, code), (code, STAFF_LANGUAGE))
    legs: list[tuple[Any, str]] = [(None, ""), (None, "")]
    if router is not None and hasattr(router, "route_status"):
        legs = [router.route_status(a, b) for a, b in directions]
    elif code == "en":
        legs[0] = ("whisper-translate", "")
    row["mt_to_resident"], row["mt_to_staff"] = legs[0][0], legs[1][0]
    row["mt_legs"] = [line for _, line in legs]
    notes: list[str] = []
    for (a, b), (label, line) in zip(directions, legs, strict=True):
        if not (router is not None and router.can_translate(a, b)):
            notes.append(line if label and line else _missing_hint(router, a, b))
    return notes


def _missing_hint(router: Any | None, source: str, target: str) -> str:
    if router is not None:
        with contextlib.suppress(Exception):
            return str(router.missing_hint(source, target))
    return f"no MT pack for {source}→{target}"
