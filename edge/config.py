"""Deployment settings of a counter device (``MADOGUCHI_*`` environment variables or a ``.env`` file).

These are the "where and what" of a device, built once in ``main()``; per-call knobs live in the option
dataclasses of each module (``VadOptions``, ``AsrOptions``, ``TtsOptions``, ``MtOptions``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from edge.errors import ConfigError
from glossary.languages import COUNTER_LANGUAGES, check_language
from madoguchi import paths

_LOGGER = logging.getLogger(__name__)


def _default_home() -> Path:
    return paths.home()


class EdgeSettings(BaseSettings):
    """Settings of one counter device."""

    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Data directory of the device (path; default ``~/.local/share/madoguchi``)."""

    packs_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("MADOGUCHI_PACKS_DIR", "MADOGUCHI_PACKS", "packs_dir")
    )
    """Model pack store (path; default ``<home>/packs``)."""

    languages: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(COUNTER_LANGUAGES))
    """Enabled counter languages (ISO 639-1 codes; default all ten). Language ID chooses among these."""

    asr_pack: str = "whisper-base"
    """Pack id of the speech recogniser (a faster-whisper pack in the store)."""

    asr_model_dir: Path | None = None
    """A faster-whisper model directory used instead of the ``asr_pack`` pack (path; None = the store)."""

    voice_files: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    """Piper ``.onnx`` voices used besides (and before) the store's voice packs (paths)."""

    fallback_voice_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["vi", "ko", "id", "ne", "es", "pt"]
    )
    """Languages spoken by the espeak-ng machine voice (low quality) when no voice pack speaks them
    (ISO 639-1 codes; remove a language to keep it text-only, empty = never). vi, ko, id and ne have no
    licence-clean neural voice; es and pt have Kokoro voice packs, which take over once installed."""

    speak_to_clerk: bool = True
    """Speak the resident's translated reply to the clerk in Japanese (bool; needs a Japanese voice)."""

    cpu_threads: int = 2
    """CPU threads per inference engine (count)."""

    compute_type: str = "int8"
    """CTranslate2 compute type of ASR and MT (``int8``, ``int8_float32``, ``float32``)."""

    beam_size: int = 5
    """ASR beam width (count). 5 keeps Whisper's accuracy; 1 (greedy) saves ≈ 0.2 s a turn but costs
    about 5 CER points on Japanese (bench: ``tuned`` vs ``tuned-asr-beam5``)."""

    short_window: bool = True
    """Cut Whisper's 30 s encoder window to the speech, padded to ``min_window_s`` (bool)."""

    min_window_s: float = 10.0
    """Smallest encoder window when ``short_window`` is on (seconds)."""

    server_url: str | None = None
    """Central server base URL (https URL; None = standalone device)."""

    token_path: Path | None = None
    """Device token file written at enrollment (path; default ``<home>/device.token``)."""

    pubkey_path: Path | None = None
    """The server's glossary signing public key (path; default ``<home>/server.pub``)."""

    host: str = "127.0.0.1"
    """Address the counter UI listens on (IP or host name)."""

    port: int = 8765
    """Port the counter UI listens on (TCP port)."""

    lan_names: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Extra names and addresses tablets use to reach the counter (comma-separated; besides loopback,
    the host name and the LAN address). The counter answers only to these names (Host allow-list) and
    its HTTPS certificate and local CA cover exactly them."""

    https: bool | None = None
    """Serve HTTPS with the local CA (bool; default: on whenever the counter listens beyond loopback)."""

    pairing_lifetime_s: float | None = None
    """How long a tablet stays paired (seconds; default: until the end of the local day)."""

    idle_timeout_s: float = 120.0
    """A conversation ends after this much silence (seconds)."""

    confirm_before_speaking: bool = False
    """Show the translation for confirmation before speaking it (bool; off = speak at once)."""

    term_correction: bool = True
    """Replace near-homophones of glossary terms in Japanese transcripts by the terms (bool)."""

    spoken_phrases: bool = True
    """Serve the verified translation when an utterance reads like a phrase-book sentence (bool)."""

    term_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Glossary domains of this counter for term correction (e.g. ``res,mynum``; empty = all)."""

    asr_hotwords: bool = False
    """Give Whisper the counter's most frequent terms as context (bool; see ``bench terms``)."""

    asr_rescoring: bool = True
    """Keep the beam hypothesis that holds glossary terms within a small score gap (bool; with term
    correction only; see ``bench terms``)."""

    term_verification: bool = False
    """Propose glossary terms by a loose reading threshold and keep those Whisper's decoder confirms on
    the same audio (bool; with term correction only). Off by default: on the held-out half of ``bench
    terms`` it raises term recall by 5 points (78 → 83 %) but costs ≈ 250–300 ms per turn on a loaded
    2-core machine (target: 30 ms), and its precision rule for 4-mora terms still needs fresh look-alikes
    (see README)."""

    reviewed_only: bool = False
    """Use only reviewed glossary terms and phrases (bool)."""

    pre_edit_easy_ja: bool = False
    """Rewrite the clerk's Japanese into Easy Japanese before translating (bool)."""

    back_translation: bool = True
    """Translate the result back into the source language so the speaker can check it (bool; the
    counter shows it under each translation; off = no back-translation at all)."""

    @field_validator("languages", "fallback_voice_languages", "term_domains", "lan_names", mode="before")
    @classmethod
    def _split_words(cls, value: object) -> object:
        """A list given as one string (the environment): split at commas and white space."""
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("voice_files", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part]
        return value

    @field_validator("languages", "fallback_voice_languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        return [check_language(code) for code in value]

    @property
    def store_dir(self) -> Path:
        """The model pack store directory."""
        return self.packs_dir or self.home / "packs"

    @property
    def resolved_token_path(self) -> Path:
        """The device token file."""
        return self.token_path or self.home / "device.token"

    @property
    def resolved_pubkey_path(self) -> Path:
        """The server's public key file."""
        return self.pubkey_path or self.home / "server.pub"


def load_settings(**overrides: Any) -> EdgeSettings:
    """Build the settings from the environment (and ``overrides``), as one ``ConfigError`` line on failure."""
    try:
        return EdgeSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        raise ConfigError(
            f"invalid setting {where}: {first.get('msg')} (check the MADOGUCHI_* variables)"
        ) from None
    except SettingsError as exc:
        raise ConfigError(f"{exc} (check the MADOGUCHI_* variables)") from None
