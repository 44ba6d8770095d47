"""Secrets for the command line (enrollment tokens): from a file, the environment or stdin, never argv.

A value given as a command-line argument is visible to every user in ``ps`` and stays in the shell history,
so the CLI refuses it and says how to pass it instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

from edge.errors import ConfigError

TOKEN_ENV: Final = "MADOGUCHI_TOKEN"


def refuse_argv_secret(value: str | None, option: str, file_option: str, env_var: str) -> None:
    """Raise if a secret was given on the command line itself.

    Raises:
        ConfigError: ``value`` is set; the message names the safe ways to pass it.
    """
    if value:
        raise ConfigError(
            f"{option} on the command line is visible in `ps` and the shell history: nothing done. "
            f"Pass it with {file_option} FILE, {file_option} - (read from stdin) or the environment "
            f"variable {env_var}"
        )


def read_secret(path: Path | None, env_var: str, what: str) -> str | None:
    """The secret from ``path`` (``-`` = one line of stdin), else ``$env_var``; None when neither is given.

    Raises:
        ConfigError: the file is unreadable or empty.
    """
    if path is not None:
        try:
            text = sys.stdin.readline() if str(path) == "-" else path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the {what} from {path}: {exc.strerror or exc}") from exc
        value = text.strip()
        if not value:
            raise ConfigError(f"the {what} in {'stdin' if str(path) == '-' else path} is empty")
        return value
    value = os.environ.get(env_var, "").strip()
    return value or None
