"""The ``madoguchi`` command: one entry point, one sub-app per package.

Every package error derives from a base class with a one-line, actionable message. The CLI prints
``ErrorName: message`` and exits 1; the traceback appears only with ``--debug``.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from madoguchi import __version__

app = typer.Typer(
    name="madoguchi",
    help="Offline speech translator for the service counters of Japanese city halls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Sub-apps: (command name, module path, attribute). Imported only when present, so a server-only
#: install without the edge extras still has ``madoguchi server``.
_SUBAPPS: list[tuple[str, str, str]] = [
    ("models", "models.cli", "app"),
    ("glossary", "glossary.cli", "app"),
    ("edge", "edge.cli", "app"),
    ("server", "server.cli", "app"),
    ("bench", "bench.cli", "app"),
    ("bundle", "deploy.bundle.cli", "app"),
]

#: Top-level commands that live in a package's CLI module (``madoguchi translate`` is the edge's).
_COMMANDS: list[tuple[str, str, str]] = [
    ("translate", "edge.cli", "translate_command"),
    ("easy", "edge.easy_ja.cli", "easy_command"),
]

_DEBUG = False


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"madoguchi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Verbose logs and full tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Offline speech translator for the service counters of Japanese city halls."""
    global _DEBUG
    _DEBUG = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _load(module: str, attr: str) -> object | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # A missing optional package (say, the server extras on a counter) hides its commands;
        # a missing module of ours hides nothing else.
        logging.getLogger(__name__).debug("commands of %s unavailable: %s", module, exc)
        return None
    return getattr(mod, attr, None)


def _requested_command(argv: list[str]) -> str | None:
    """The first word of ``argv`` that is not an option: the command the user asked for."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def _register(argv: list[str]) -> None:
    """Register the sub-apps; only the requested one when it is known.

    Importing every package costs seconds (speech runtimes, the web stack), so ``madoguchi models
    list`` imports the model store alone. Help and unknown commands import everything.
    """
    wanted = _requested_command(argv)
    known = {name for name, _, _ in _SUBAPPS} | {name for name, _, _ in _COMMANDS}
    only = wanted if wanted in known else None
    for name, module, attr in _SUBAPPS:
        if only in (None, name):
            sub = _load(module, attr)
            if isinstance(sub, typer.Typer):
                app.add_typer(sub, name=name)
    for name, module, attr in _COMMANDS:
        if only in (None, name):
            func = _load(module, attr)
            if callable(func):
                app.command(name)(func)


#: Base classes of each package's errors (module, class): one-line messages, no traceback. Matched by
#: name, so the CLI imports no package just to know its errors.
_KNOWN_ERRORS: frozenset[tuple[str, str]] = frozenset(
    {
        ("edge.errors", "EdgeError"),
        ("models.errors", "ModelPackError"),
        ("glossary.errors", "GlossaryError"),
        ("server.errors", "ServerError"),
    }
)


def _is_known_error(exc: BaseException) -> bool:
    return any((cls.__module__, cls.__qualname__) in _KNOWN_ERRORS for cls in type(exc).__mro__)


def main() -> None:
    """Run the CLI; known errors become one line on stderr and exit code 1."""
    _register(sys.argv[1:])
    try:
        # With standalone_mode=False click returns the code of `raise typer.Exit(code)` instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except Exception as exc:  # the one place that turns errors into exit codes
        # Usage errors (unknown command, bad option value): typer ships its own click, whose
        # ClickException derives from TyperException and knows how to show itself.
        if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        if _DEBUG:
            raise
        if _is_known_error(exc):
            typer.echo(f"{type(exc).__name__}: {exc}", err=True)
            sys.exit(1)
        typer.echo(
            f"Unexpected error: {type(exc).__name__}: {exc} (run again with --debug for details)",
            err=True,
        )
        sys.exit(2)
