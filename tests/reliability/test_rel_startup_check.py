"""A model file corrupted on disk is caught by its checksum at start-up, with a one-line message.

Start-up (``edge.engines``) compares sizes on every start and every sha256 on the first start after an
install; ``madoguchi edge check`` hashes everything on demand. Real packs (Whisper tiny, the English
Piper voice) are copied from the test store and damaged in the copy.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edge.config import EdgeSettings
from edge.engines import asr_model_dir, find_voices
from edge.errors import EngineUnavailable
from models import PackStore, verify_installed
from tests.support.cli import run_madoguchi
from tests.support.faults import REPO_ROOT


@pytest.fixture
def store(default_store: PackStore, tmp_path: Path) -> PackStore:
    """A fresh store holding copies of whisper-tiny and the English voice (never checked yet)."""
    root = tmp_path / "packs"
    for pack_id in ("whisper-tiny", "piper-en_US-joe-medium"):
        shutil.copytree(
            default_store.root / pack_id, root / pack_id, ignore=shutil.ignore_patterns(".verified")
        )
    return PackStore(root)


def _settings(store: PackStore, home: Path) -> EdgeSettings:
    return EdgeSettings(home=home, packs_dir=store.root, asr_pack="whisper-tiny", languages=["ja", "en"])


def _flip_byte(path: Path) -> None:
    """Change one byte in the middle of the file (same size: only a checksum can tell)."""
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _cli(*args: str, home: Path, store: PackStore) -> subprocess.CompletedProcess[str]:
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "MADOGUCHI_HOME": str(home),
        "MADOGUCHI_PACKS_DIR": str(store.root),
        "MADOGUCHI_ASR_PACK": "whisper-tiny",
        "MADOGUCHI_LANGUAGES": "ja,en",
    }
    return run_madoguchi(*args, env=env, cwd=home)


def test_truncated_model_stops_the_start_with_the_repair_command(store: PackStore, tmp_path: Path) -> None:
    model = store.root / "whisper-tiny" / "model.bin"
    with model.open("r+b") as handle:
        handle.truncate(model.stat().st_size - 4096)
    with pytest.raises(EngineUnavailable, match=r"model\.bin has \d+ bytes, expected \d+; run `madoguchi "
                       r"models install whisper-tiny`"):  # fmt: skip
        asr_model_dir(_settings(store, tmp_path))
    clip = REPO_ROOT / "edge" / "samples" / "ja_common_voice_19482480.mp3"
    result = _cli("translate", str(clip), "--target", "en", "--out", str(tmp_path / "out"), home=tmp_path,
                  store=store)  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("EngineUnavailable: pack 'whisper-tiny'"), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "result.json").exists()


def test_same_size_corruption_is_caught_on_the_first_start_after_install(
    store: PackStore, tmp_path: Path
) -> None:
    _flip_byte(store.root / "whisper-tiny" / "model.bin")
    with pytest.raises(EngineUnavailable, match=r"model\.bin sha256 \w+… differs from the manifest"):
        asr_model_dir(_settings(store, tmp_path))


def test_later_starts_check_sizes_and_edge_check_hashes_everything(store: PackStore, tmp_path: Path) -> None:
    settings = _settings(store, tmp_path)
    pack = store.get("whisper-tiny")
    assert verify_installed(pack) is True  # first start: full check, stamp written
    assert verify_installed(pack) is False  # next starts: sizes only
    assert asr_model_dir(settings)[1] == "whisper-tiny"
    ok = _cli("edge", "check", home=tmp_path, store=store)
    assert ok.returncode == 0, ok.stderr
    assert "ok whisper-tiny" in ok.stdout and "ok piper-en_US-joe-medium" in ok.stdout

    _flip_byte(store.root / "whisper-tiny" / "model.bin")
    bad = _cli("edge", "check", home=tmp_path, store=store)
    assert bad.returncode == 1
    assert "CORRUPT pack 'whisper-tiny': file model.bin sha256" in bad.stdout
    assert "ok piper-en_US-joe-medium" in bad.stdout
    assert bad.stderr.strip().splitlines() == [
        "EngineUnavailable: 1 of 2 packs are corrupt (whisper-tiny); "
        "run `madoguchi models install whisper-tiny` to repair them"
    ]


def test_corrupt_voice_is_skipped_and_the_counter_goes_text_only(
    store: PackStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(store, tmp_path)
    assert "en" in find_voices(settings, store)
    (store.root / "piper-en_US-joe-medium" / ".verified").unlink()  # as if just installed
    _flip_byte(store.root / "piper-en_US-joe-medium" / "en_US-joe-medium.onnx")
    with caplog.at_level(logging.WARNING, logger="edge.engines"):
        voices = find_voices(settings, store)
    assert "en" not in voices
    assert any("skipping voice pack piper-en_US-joe-medium" in r.getMessage() for r in caplog.records)


def test_corrupt_mt_pack_is_reported_and_its_pair_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from edge.engines import load_mt_router
    from tests.support.tiny_models import build_store

    mt_store = build_store(tmp_path / "mt", ("tiny-ja-en", "tiny-ja-es"))
    settings = EdgeSettings(home=tmp_path, packs_dir=mt_store.root, languages=["ja", "en", "es"])
    _flip_byte(mt_store.root / "tiny-ja-en" / "model.bin")
    with caplog.at_level(logging.ERROR, logger="edge.engines"):
        router = load_mt_router(settings, mt_store, None)
    assert not router.can_translate("ja", "en")  # as if missing: the turn falls back with a notice
    assert router.can_translate("ja", "es")
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "'tiny-ja-en': file model.bin sha256" in m and "models install tiny-ja-en" in m for m in messages
    )
