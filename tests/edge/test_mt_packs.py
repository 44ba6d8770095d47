"""Pack stores of TINY twin translators for the MT tests (built in well under a second each)."""

from __future__ import annotations

from pathlib import Path

from bench.twins import build_tiny_translator
from models import PackStore

#: pack id → (format, languages, directions or None for multilingual)
TINY_PACKS: dict[str, tuple[str, tuple[str, ...], list[tuple[str, str]] | None]] = {
    "tiny-ja-en": ("ct2-sentencepiece", ("ja", "en"), [("ja", "en")]),
    "tiny-en-vi": ("argos", ("en", "vi"), [("en", "vi")]),
    "tiny-en-ko": ("ct2-sentencepiece-shared", ("en", "ko"), [("en", "ko")]),
    "tiny-ja-es": ("opus-mt", ("ja", "es"), [("ja", "es")]),
    "tiny-m2m": ("m2m100", ("ja", "en", "tl", "ne"), None),
}


def build_store(root: Path, pack_ids: tuple[str, ...] = tuple(TINY_PACKS)) -> PackStore:
    """Build the named tiny packs into ``root`` (one directory each) and return the real store over them."""
    for pack_id in pack_ids:
        fmt, langs, directions = TINY_PACKS[pack_id]
        build_tiny_translator(root / pack_id, langs, fmt=fmt, directions=directions, pack_id=pack_id)
    return PackStore(root)
