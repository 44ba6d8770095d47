"""Glossary uploads on the server: read and validate (with ``glossary``'s own reader), merge, diff.

Upload rule: an XLSX workbook (sheets ``terms`` and ``phrases``) or a canonical JSON export is the
whole glossary and replaces everything. A CSV holds one table, often one domain's file
(``terms/tax.csv``), so it replaces only the domains (or phrase situations) it contains and keeps
the rest of the current version. All three formats pass the same row-by-row validation. The diff
preview shows exactly what changes before publishing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import PurePath

from glossary.schema import Glossary
from glossary.validate import validate_upload
from server.schemas import GlossaryDiffPublic

_LOGGER = logging.getLogger(__name__)

#: Largest accepted upload, bytes (the whole city's glossary as XLSX is well under 1 MiB).
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


@dataclass
class UploadResult:
    """A validated upload merged into the current glossary, or the problems that stop it."""

    glossary: Glossary | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_upload(filename: str, data: bytes, current: Glossary | None) -> UploadResult:
    """Validate an uploaded ``.csv``, ``.xlsx`` or ``.json`` and merge it with ``current``."""
    name = PurePath(filename or "upload").name
    if len(data) > MAX_UPLOAD_BYTES:
        return UploadResult(None, [f"{name}: file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB"])
    suffix = PurePath(name).suffix.lower()
    report = validate_upload(name, data)  # one validation for .csv, .xlsx and .json alike
    warnings = [str(p) for p in report.warnings]
    if report.glossary is None:
        return UploadResult(
            None, [str(p) for p in report.errors] or [f"{name}: nothing to publish"], warnings
        )
    uploaded = report.glossary
    if suffix == ".csv" and current is not None:
        uploaded = _merge_table(current, uploaded)
    return UploadResult(uploaded, [], warnings)


def _merge_table(current: Glossary, uploaded: Glossary) -> Glossary:
    """Replace the domains (terms) or situations (phrases) present in a one-table upload."""
    if uploaded.terms and not uploaded.phrases:
        domains = {t.domain for t in uploaded.terms.values()}
        kept = [t for t in current.terms.values() if t.domain not in domains]
        return Glossary.from_items([*kept, *uploaded.terms.values()], list(current.phrases.values()))
    if uploaded.phrases and not uploaded.terms:
        situations = {p.situation for p in uploaded.phrases.values()}
        kept_p = [p for p in current.phrases.values() if p.situation not in situations]
        return Glossary.from_items(list(current.terms.values()), [*kept_p, *uploaded.phrases.values()])
    return uploaded


def diff_glossaries(old: Glossary | None, new: Glossary) -> GlossaryDiffPublic:
    """Ids added, removed and changed between two versions (content only, not version stamps)."""
    old_terms = {k: v.to_dict() for k, v in (old.terms if old else {}).items()}
    new_terms = {k: v.to_dict() for k, v in new.terms.items()}
    old_phrases = {k: v.to_dict() for k, v in (old.phrases if old else {}).items()}
    new_phrases = {k: v.to_dict() for k, v in new.phrases.items()}
    return GlossaryDiffPublic(
        added_terms=sorted(new_terms.keys() - old_terms.keys()),
        removed_terms=sorted(old_terms.keys() - new_terms.keys()),
        changed_terms=sorted(k for k in new_terms.keys() & old_terms.keys() if new_terms[k] != old_terms[k]),
        added_phrases=sorted(new_phrases.keys() - old_phrases.keys()),
        removed_phrases=sorted(old_phrases.keys() - new_phrases.keys()),
        changed_phrases=sorted(
            k for k in new_phrases.keys() & old_phrases.keys() if new_phrases[k] != old_phrases[k]
        ),
    )
