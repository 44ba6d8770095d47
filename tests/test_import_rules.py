"""Who may import whom: the package layering of README "Architecture", checked on the source.

Every import counts (module level, inside functions, under ``TYPE_CHECKING``), so a rule broken only
in a rarely used command still fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("madoguchi", "contracts", "glossary", "models", "edge", "server", "deploy", "bench")

#: Layers inside the edge: a module may import its own layer's group and lower layers only.
EDGE_LAYERS: dict[str, int] = {
    "edge.errors": 0,
    "edge.events": 0,
    "edge.punctuation": 0,
    "edge.config": 1,
    "edge.audio": 1,
    "edge.easy_ja": 1,
    "edge.speech": 2,
    "edge.translate": 2,
    "edge.sync": 2,
    "edge.engines": 3,
    "edge.turn": 4,
    "edge.counter": 5,
    "edge.cli": 6,
}

#: Leaf modules of the ``madoguchi`` package that import nothing of ours: every package may use them.
SHARED_LEAVES = ("madoguchi.paths", "madoguchi.files")

#: Top-level packages each package must never import.
FORBIDDEN: dict[str, set[str]] = {
    "contracts": {"madoguchi", "glossary", "models", "edge", "server", "deploy", "bench"},
    "glossary": {"edge", "server", "deploy", "bench", "models"},
    "models": {"edge", "server", "deploy", "bench", "glossary"},
    "edge": {"server", "deploy", "bench"},
    "server": {"edge", "models", "deploy", "bench"},
    "deploy": {"server", "bench"},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")) if (REPO / package).is_dir() else []:
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[str]:
    """The modules of ours that ``module`` imports (resolved to files)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            resolved = _resolve(target)
            own_package = MODULES.get(resolved or "", Path()).name == "__init__.py" and module.startswith(
                f"{resolved}."
            )
            if resolved and resolved != module and not own_package:
                yield resolved


GRAPH = {module: set(_imports(module)) for module in MODULES}


def _edge_group(module: str) -> str | None:
    for group in sorted(EDGE_LAYERS, key=len, reverse=True):
        if module == group or module.startswith(group + "."):
            return group
    return None


def test_no_import_circles() -> None:
    """No module reaches itself through its imports (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_downwards(package: str) -> None:
    """contracts, glossary and models stand alone; edge and server never import each other."""
    bad = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module.split(".")[0] == package
        for target in targets
        if target.split(".")[0] in FORBIDDEN[package] and target not in SHARED_LEAVES
    )
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_only_the_shared_leaves_of_the_cli_package_are_imported() -> None:
    """Packages use ``madoguchi.paths`` and ``madoguchi.files``, nothing else of the CLI package."""
    bad = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if not module.startswith("madoguchi")
        for target in targets
        if target.startswith("madoguchi") and target not in ("madoguchi", *SHARED_LEAVES)
    )
    assert not bad, "\n".join(bad)


def test_edge_layers() -> None:
    """Inside the edge: counter → turn → engines → speech/translate/sync → audio/config → errors/events."""
    bad = []
    for module, targets in GRAPH.items():
        group = _edge_group(module)
        if group is None:
            continue
        for target in targets:
            other = _edge_group(target)
            if other is not None and other != group and EDGE_LAYERS[other] >= EDGE_LAYERS[group]:
                bad.append(f"{module} -> {target}")
    assert not bad, "edge imports against its layers:\n" + "\n".join(sorted(bad))


def test_cli_root_imports_packages_lazily() -> None:
    """``madoguchi/cli.py`` imports no package of ours at module level (each command loads its own)."""
    tree = ast.parse((REPO / "madoguchi" / "cli.py").read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [alias.name for node in top if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module or "" for node in top if isinstance(node, ast.ImportFrom)]
    ours = [name for name in names if name.split(".")[0] in PACKAGES and name != "madoguchi"]
    assert not ours, f"madoguchi/cli.py imports {ours} at module level"


def _loaded_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['madoguchi', *{argv!r}]\n"
        "from madoguchi import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return {line.split(".")[0] for line in done.stdout.split()}


@pytest.mark.parametrize("argv", [["--help"], ["server", "--help"], ["server", "versions", "--help"]])
def test_help_and_server_commands_load_no_speech_runtime(argv: list[str]) -> None:
    """``madoguchi --help`` and ``madoguchi server …`` import neither faster_whisper nor ctranslate2."""
    loaded = _loaded_after(argv)
    assert not loaded & {"faster_whisper", "ctranslate2", "onnxruntime", "piper", "av"}, sorted(loaded)
    if argv[0] == "server":
        assert "edge" not in loaded
