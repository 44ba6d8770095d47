"""Shared fixtures: the default model packs, the repository's test data, and the file guard.

Tests and the processes they start read evaluation data from ``tests/data`` only
(``MADOGUCHI_EVAL_DIR`` is set for the session); the file guard fails any test that opens a path
outside the repository, the temporary directories, the model store and the system.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.speech.asr import AsrOptions, WhisperTranscriber
from edge.speech.tts import PiperSynthesizer
from glossary.languages import COUNTER_LANGUAGES
from models import PackStore
from tests.support import data, guard
from tests.support.guard import pytest_collection_finish, pytest_runtest_makereport
from tests.support.memory import pytest_runtest_logfinish, pytest_runtest_protocol
from tests.support.schedule import pytest_collection_modifyitems

__all__ = [
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_runtest_logfinish",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-quick-results",
        default=None,
        help="the output directory of the `madoguchi bench --quick` run that script/test made just before "
        "this session: the bench test checks it instead of running the benchmark again",
    )


os.environ["MADOGUCHI_EVAL_DIR"] = str(data.EVAL_DIR)
guard.install()


@pytest.fixture(scope="session")
def default_store() -> PackStore:
    """A PackStore with whisper-base, whisper-tiny and piper-en_US-joe-medium installed (idempotent)."""
    return data.default_store()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The repository's own evaluation data (``tests/data``: speech clips with a MANIFEST.tsv, texts)."""
    return data.EVAL_DIR


@pytest.fixture(scope="session")
def whisper_base() -> WhisperTranscriber:
    """Whisper base with the counter languages, loaded once per test process.

    Safe to share: a test that needs other options takes ``whisper_base.with_options(...)`` (same model,
    no reload); the model itself is read-only.
    """
    return WhisperTranscriber(data.whisper_base_dir(), AsrOptions(languages=COUNTER_LANGUAGES))


@pytest.fixture(scope="session")
def whisper_tiny() -> WhisperTranscriber:
    """Whisper tiny restricted to Japanese and English, loaded once per test process."""
    return WhisperTranscriber(data.whisper_tiny_dir(), AsrOptions(languages=("ja", "en")))


@pytest.fixture(scope="session")
def english_synthesizer() -> PiperSynthesizer:
    """The English Piper voice, loaded once per test process (synthesis keeps no state between calls)."""
    return PiperSynthesizer(data.english_voice())
