"""`madoguchi models ...` as a user runs it: a subprocess, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from models import DEFAULT_PACKS, PackStore
from tests.support.cli import run_madoguchi


def _run(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {"MADOGUCHI_PACKS": str(store), "MADOGUCHI_HOME": str(store.parent / "home"), "COLUMNS": "200"}
    return run_madoguchi("models", *args, env=env)


def _one_line_error(result: subprocess.CompletedProcess[str], name: str) -> str:
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"{name}: ")
    return lines[0]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    store = tmp_path / "store"
    line = _one_line_error(_run("install", "whisper-bsae", store=store), "UnknownPack")
    assert "did you mean whisper-base" in line
    line = _one_line_error(_run("install", "piper-ko_KR-kss-medium", store=store), "LicenseNotAccepted")
    assert "--accept-noncommercial" in line
    line = _one_line_error(_run("install", "quickmt-en-vi", store=store), "UnpinnedPack")
    assert "a commit revision (quickmt/quickmt-en-vi@main can move)" in line
    assert "models install quickmt-en-vi --pin-on-first-install" in line
    assert str(tmp_path / "home" / "model-pins.json") in line
    _one_line_error(_run("unpin", "quickmt-en-vi", store=store), "PackNotInstalled")
    _one_line_error(_run("info", "no-such-pack", store=store), "UnknownPack")
    _one_line_error(_run("remove", "whisper-base", store=store), "PackNotInstalled")
    _one_line_error(_run("verify", store=store), "PackNotInstalled")


def test_cli_install_list_verify_remove(tiny_argosmodel: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = _run("install", str(tiny_argosmodel), "--kind", "mt", store=store)
    assert result.returncode == 0, result.stderr
    assert "installed argos-ja-en 1.1" in result.stdout
    listing = _run("list", "--installed", store=store)
    assert (
        listing.returncode == 0 and "argos-ja-en" in listing.stdout and "whisper-base" not in listing.stdout
    )
    full = _run("list", store=store)
    assert "whisper-base" in full.stdout and "quickmt-ja-en" in full.stdout
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in full.stdout.splitlines() if "│" in line]
    pinned = {row[1]: row[-1] for row in cells if len(row) == 8}
    assert pinned["whisper-base"] == "yes" and pinned["m2m100-418m"] == "NO"
    verify = _run("verify", "argos-ja-en", store=store)
    assert verify.returncode == 0 and verify.stdout.startswith("ok argos-ja-en")
    info = _run("info", "argos-ja-en", store=store)
    assert "directions:  ja→en" in info.stdout and "model/model.bin" in info.stdout
    assert "pin:         pinned by the catalogue" in info.stdout
    unpinned = _run("info", "m2m100-418m", store=store).stdout
    assert "pin:         NOT PINNED: lacks a commit revision" in unpinned
    assert _run("remove", "argos-ja-en", store=store).returncode == 0
    assert PackStore(store).installed() == []


def test_cli_install_defaults_is_idempotent(default_store: PackStore) -> None:
    """`install --defaults` on a store that has them only verifies them."""
    result = _run("install", "--defaults", store=default_store.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("installed ") == len(DEFAULT_PACKS)
