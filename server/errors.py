"""Errors of the central server's command line and services.

ServerError
 ├── ServerConfigError   settings or database URL are wrong
 └── SigningKeyError     the Ed25519 signing key is missing or unreadable
"""

from __future__ import annotations


class ServerError(Exception):
    """Base of every server-side error raised outside HTTP handlers."""


class ServerConfigError(ServerError):
    """The server settings are invalid."""


class SigningKeyError(ServerError):
    """The signing key is missing or unreadable (run: madoguchi server keygen)."""
