"""The administrative glossary: terms, fixed phrases, matching and enforcement.

Pure domain code plus the bundled data in ``glossary/data``; imports nothing else of madoguchi.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from pathlib import Path

from glossary.diff import GlossaryDiff, diff
from glossary.enforce import EnforcedText, ProtectedText, protect, restore, verify
from glossary.errors import GlossaryError, SchemaError, SignatureError
from glossary.io import export_glossary, load_glossary, load_upload
from glossary.match import MatchOptions, TermMatch, TermMatcher, normalize
from glossary.schema import DOMAINS, SITUATIONS, TRANSLATION_LANGUAGES, Glossary, Label, Phrase, Term
from glossary.validate import Report, validate_path, validate_upload

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "DOMAINS",
    "SITUATIONS",
    "TRANSLATION_LANGUAGES",
    "EnforcedText",
    "Glossary",
    "GlossaryDiff",
    "GlossaryError",
    "Label",
    "MatchOptions",
    "Phrase",
    "ProtectedText",
    "Report",
    "SchemaError",
    "SignatureError",
    "Term",
    "TermMatch",
    "TermMatcher",
    "bundled_data_dir",
    "bundled_glossary",
    "diff",
    "export_glossary",
    "load_glossary",
    "load_upload",
    "normalize",
    "protect",
    "restore",
    "validate_path",
    "validate_upload",
    "verify",
]


def bundled_data_dir() -> Path:
    """The directory of the glossary shipped with madoguchi (``glossary/data``)."""
    return Path(str(importlib.resources.files("glossary") / "data"))


@functools.lru_cache(maxsize=1)
def bundled_glossary() -> Glossary:
    """The glossary shipped with madoguchi, loaded once (raises SchemaError if it is broken)."""
    g = load_glossary(bundled_data_dir())
    _LOGGER.info("bundled glossary %s: %d terms, %d phrases", g.version, len(g.terms), len(g.phrases))
    return g
