"""The signed glossary on the device: ``current.json`` and ``previous.json`` in the glossary directory.

The stored file is the signed envelope, so it is verified again on every start. An install writes a temp
file, fsyncs it, moves the current file to ``previous.json`` and renames the temp file to ``current.json``
(then fsyncs the directory): a crash between the renames leaves ``previous.json``, which ``load`` falls
back to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.errors import SyncError
from glossary.errors import GlossaryError
from glossary.schema import Glossary
from glossary.signing import SignedStatement, verify_envelope
from madoguchi.files import fsync_dir, private_dir

_LOGGER = logging.getLogger(__name__)

CURRENT_FILE: Final = "current.json"
PREVIOUS_FILE: Final = "previous.json"
ETAG_FILE: Final = "etag"
SERVER_FILE: Final = "server.json"


@dataclass(frozen=True)
class InstalledGlossary:
    """A verified glossary from the store with the statement that vouches for it."""

    statement: SignedStatement
    glossary: Glossary


def _fsync_dir(path: Path) -> None:
    """Best effort here: the glossary store keeps its previous version whatever happens."""
    with contextlib.suppress(OSError):
        fsync_dir(path)


class GlossaryStore:
    """``current.json`` and ``previous.json`` (signed envelopes) in the device's glossary directory."""

    def __init__(self, directory: Path, public_key: Ed25519PublicKey) -> None:
        """Keep envelopes in ``directory``; every read verifies them with ``public_key``."""
        self.directory = Path(directory)
        self.public_key = public_key

    def _read(self, name: str) -> InstalledGlossary | None:
        path = self.directory / name
        try:
            envelope = json.loads(path.read_bytes())
            statement = verify_envelope(self.public_key, envelope)
            return InstalledGlossary(statement, Glossary.from_dict(envelope["glossary"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, GlossaryError) as exc:
            _LOGGER.warning("stored glossary %s is unusable: %s", path, exc)
            return None

    def load(self) -> InstalledGlossary | None:
        """The current verified glossary, falling back to the previous one; None when neither verifies."""
        return self._read(CURRENT_FILE) or self._read(PREVIOUS_FILE)

    def load_previous(self) -> InstalledGlossary | None:
        """The verified previous version, if any."""
        return self._read(PREVIOUS_FILE)

    def install(self, envelope_bytes: bytes) -> None:
        """Atomically make ``envelope_bytes`` the current version, keeping the old one as previous."""
        private_dir(self.directory)
        for stale in self.directory.glob(".glossary-*.tmp"):  # left by an install cut short by a power cut
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".glossary-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(envelope_bytes)
                handle.flush()
                os.fsync(handle.fileno())
            current = self.directory / CURRENT_FILE
            if current.exists():
                os.replace(current, self.directory / PREVIOUS_FILE)
            os.replace(tmp, current)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.directory)

    def rollback(self) -> InstalledGlossary:
        """Swap current and previous (IT's local undo).

        Raises:
            SyncError: there is no usable previous version.
        """
        previous = self.load_previous()
        if previous is None:
            raise SyncError(f"no previous glossary in {self.directory} to roll back to")
        current = self.directory / CURRENT_FILE
        prev = self.directory / PREVIOUS_FILE
        swap = self.directory / ".swap.tmp"
        os.replace(prev, swap)
        if current.exists():
            os.replace(current, prev)
        os.replace(swap, current)
        _fsync_dir(self.directory)
        (self.directory / ETAG_FILE).unlink(missing_ok=True)
        return previous
