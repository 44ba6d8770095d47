"""Errors of the glossary package.

GlossaryError
 ├── SchemaError        a file does not follow the glossary format (lists every problem)
 └── SignatureError     a signed glossary does not verify (tampered, unsigned, wrong key)
"""

from __future__ import annotations


class GlossaryError(Exception):
    """Base of every glossary error; the message is one actionable line."""


class SchemaError(GlossaryError):
    """A glossary or phrase file breaks the format; ``problems`` lists each one."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class SignatureError(GlossaryError):
    """A signed glossary failed verification and must not be used."""
