"""The counter languages: codes, native names, scripts.

One place for the language list, shared by the edge, the server and the glossary. Codes are
ISO 639-1 as Whisper uses them; ``ja-easy`` is Easy Japanese (やさしい日本語), a target only.
"""

from __future__ import annotations

from typing import Final

STAFF_LANGUAGE: Final = "ja"

#: The resident languages a counter offers by default, in picker order.
RESIDENT_LANGUAGES: Final[tuple[str, ...]] = ("vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es")

#: All ten spoken counter languages (the clerk's first).
COUNTER_LANGUAGES: Final[tuple[str, ...]] = (STAFF_LANGUAGE, *RESIDENT_LANGUAGES)

EASY_JAPANESE: Final = "ja-easy"

#: Names in the language itself, as a resident looks for them (no flags: languages are not countries).
NATIVE_NAMES: Final[dict[str, str]] = {
    "ja": "日本語",
    "vi": "Tiếng Việt",
    "zh": "中文（简体）",
    "tl": "Tagalog / Filipino",
    "pt": "Português (Brasil)",
    "ne": "नेपाली",
    "en": "English",
    "ko": "한국어",
    "id": "Bahasa Indonesia",
    "es": "Español",
    "ja-easy": "やさしい にほんご",
}

#: English names, for logs, the IT console and error messages.
ENGLISH_NAMES: Final[dict[str, str]] = {
    "ja": "Japanese",
    "vi": "Vietnamese",
    "zh": "Chinese (Simplified)",
    "tl": "Tagalog/Filipino",
    "pt": "Portuguese (Brazil)",
    "ne": "Nepali",
    "en": "English",
    "ko": "Korean",
    "id": "Indonesian",
    "es": "Spanish",
    "ja-easy": "Easy Japanese",
}


def check_language(code: str, *, allow_easy: bool = False) -> str:
    """Return ``code`` normalised (lower case) or raise ``ValueError`` naming the valid codes."""
    norm = code.strip().lower().replace("_", "-")
    if norm in COUNTER_LANGUAGES or (allow_easy and norm == EASY_JAPANESE):
        return norm
    valid = ", ".join(COUNTER_LANGUAGES + ((EASY_JAPANESE,) if allow_easy else ()))
    raise ValueError(f"unknown language code {code!r}; use one of: {valid}")
