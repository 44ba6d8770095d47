"""Each package's public surface: what ``__all__`` names exists, once, and nothing else leaks."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["madoguchi", "contracts", "glossary", "models", "edge", "server", "bench"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve_once(name: str) -> None:
    """Every name in ``__all__`` is an attribute of the package, listed once."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def _imported_modules(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_glossary_and_models_import_nothing_of_ours() -> None:
    """The domain packages stand alone (they may use ``madoguchi.paths``, the one place for directories)."""
    for pkg in ("glossary", "models"):
        loaded = _imported_modules(f"import {pkg}")
        ours = {m.split(".")[0] for m in loaded} & {"edge", "server", "bench", "deploy"}
        ours |= {m for m in loaded if m.startswith("madoguchi")} - {
            "madoguchi",
            "madoguchi.paths",
            "madoguchi.files",
        }
        assert not ours, f"{pkg} imports {ours}"


def test_server_never_loads_speech_runtimes_or_edge() -> None:
    """The central server imports neither the edge nor the speech and translation runtimes."""
    loaded = {m.split(".")[0] for m in _imported_modules("import server.main")}
    forbidden = {"edge", "models", "faster_whisper", "ctranslate2", "piper", "onnxruntime"}
    assert not (loaded & forbidden), f"server loads {loaded & forbidden}"


def test_edge_never_imports_server() -> None:
    """The counter device runs without the server package."""
    loaded = {m.split(".")[0] for m in _imported_modules("import edge, edge.cli")}
    assert "server" not in loaded


def test_cli_version_is_fast_path() -> None:
    """``madoguchi --version`` answers and exits 0."""
    out = subprocess.run(
        [sys.executable, "-m", "madoguchi", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("madoguchi ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-command"], "No such command 'no-such-command'"),
        (["bench", "--configs", "nope"], "unknown configuration 'nope'"),
    ],
)
def test_cli_usage_errors_are_usage_errors(argv: list[str], expected: str) -> None:
    """A wrong command or option value prints click's usage message and exits 2, not "unexpected"."""
    out = subprocess.run(
        [sys.executable, "-m", "madoguchi", *argv], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2
    assert expected in out.stderr
    assert "Unexpected error" not in out.stderr
