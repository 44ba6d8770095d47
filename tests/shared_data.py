"""The repository's test data and default model packs (the names live in ``tests.support.data``)."""

from __future__ import annotations

from tests.support.data import (
    EVAL_DIR,
    REPO_DIR,
    SPEECH_DIR,
    TEST_CACHE_DIR,
    TEST_STORE_DIR,
    default_store,
    english_voice,
    real_mt_store,
    speech_clip,
    whisper_base_dir,
    whisper_tiny_dir,
)

__all__ = [
    "EVAL_DIR",
    "REPO_DIR",
    "SPEECH_DIR",
    "TEST_CACHE_DIR",
    "TEST_STORE_DIR",
    "default_store",
    "english_voice",
    "real_mt_store",
    "speech_clip",
    "whisper_base_dir",
    "whisper_tiny_dir",
]
