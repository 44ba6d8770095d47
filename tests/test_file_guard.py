"""The file guard: an open outside the repository is seen; the repository, temp dirs and store are not."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from tests.support.data import REPO_DIR, TEST_STORE_DIR
from tests.support.guard import GUARD


def test_an_evaluation_folder_beside_the_clone_is_outside() -> None:
    beside = REPO_DIR.parent / "shared" / "eval" / "speech" / "MANIFEST.tsv"
    with GUARD.expect_outside() as seen, contextlib.suppress(OSError):
        beside.read_bytes()  # whether or not it exists here, the attempt is what counts
    assert seen == [f"open: {beside}"]


def test_listing_a_folder_outside_is_seen() -> None:
    with GUARD.expect_outside() as seen:
        list(Path.home().glob("madoguchi-guard-probe-*"))
    assert seen and all(str(Path.home()) in line for line in seen)


def test_the_repository_temp_dirs_and_model_store_are_allowed(tmp_path: Path) -> None:
    with GUARD.expect_outside() as seen:
        (REPO_DIR / "README.md").read_bytes()
        (tmp_path / "x").write_text("x")
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "y").write_text("y")
    assert seen == []
    assert GUARD.is_allowed(str(TEST_STORE_DIR / "whisper-base" / "model.bin"))
    assert not GUARD.is_allowed(str(REPO_DIR.parent / "shared" / "eval"))
    assert not GUARD.is_allowed(str(REPO_DIR) + "-sibling/file")
