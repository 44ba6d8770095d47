"""Fixtures of the glossary tests: a small data directory of real-looking terms and phrases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from glossary import Glossary, TermMatcher, load_glossary

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The fixture data directory (terms/*.csv, phrases/*.csv)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def small_glossary() -> Glossary:
    """The fixture glossary, loaded once."""
    return load_glossary(DATA_DIR)


@pytest.fixture(scope="session")
def matcher(small_glossary: Glossary) -> TermMatcher:
    """A matcher over the fixture glossary."""
    return TermMatcher(small_glossary)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture data directory."""
    out = tmp_path / "data"
    shutil.copytree(DATA_DIR / "terms", out / "terms")
    shutil.copytree(DATA_DIR / "phrases", out / "phrases")
    return out
