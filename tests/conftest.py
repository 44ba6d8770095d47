"""Shared fixtures: the default model packs and the repository's test data."""

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
    """The repository's own evaluation data (``tests/data``: speech clips with a MANIFEST.tsv)."""
    return shared_data.EVAL_DIR
