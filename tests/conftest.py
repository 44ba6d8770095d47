"""Shared fixtures: the default model packs and the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import PackStore
from tests import shared_data


@pytest.fixture(scope="session")
def default_store() -> PackStore:
    """A PackStore with whisper-base, whisper-tiny and piper-en_US-joe-medium installed (idempotent)."""
    return shared_data.default_store()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The shared evaluation data (speech clips, text corpora), a sibling of the repository clone."""
    return shared_data.EVAL_DIR
