"""Shared fixtures: the default model packs and the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Where the default packs are installed for tests (outside the repo, reused across runs: reruns only verify).
TEST_CACHE_DIR = Path.home() / ".cache" / "madoguchi"
TEST_STORE_DIR = TEST_CACHE_DIR / "test-store"


@pytest.fixture(scope="session")
def default_store():
    """A PackStore with whisper-base, whisper-tiny and piper-en_US-joe-medium installed (idempotent)."""
    from models import DEFAULT_PACKS, PackStore, install_pack

    store = PackStore(TEST_STORE_DIR)
    for name in DEFAULT_PACKS:
        install_pack(name, store, cache_dir=TEST_CACHE_DIR)
    return store


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The shared evaluation data (speech clips, text corpora), a sibling of the repository clone."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "eval"
