"""Loading and exporting glossaries: data directories, CSV, XLSX, uploads, canonical JSON.

Loading always validates: a file with any error raises :class:`SchemaError` whose ``problems``
list every problem (``file:line: field: message``). Exports round-trip: loading an export gives
the same ``content_hash``.

CSV injection: imports refuse formula-like cells (see ``validate.py``), so a loaded glossary has
none. Exports still neutralise any cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR by
prefixing an apostrophe (the OWASP advice), and XLSX cells are always written as text, never as
formulas.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from glossary.errors import GlossaryError, SchemaError
from glossary.rows import phrase_row, term_row
from glossary.schema import (
    PHRASE_COLUMNS,
    TERM_COLUMNS,
    Glossary,
    Phrase,
    Term,
)
from glossary.validate import FORMULA_PREFIXES, Report, validate_path, validate_upload

_LOGGER = logging.getLogger(__name__)

ExportFormat = Literal["csv", "xlsx", "json"]

#: Domain and situation keys become file names (``terms/<domain>.csv``): nothing else passes.
_FILE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _raise_for(report: Report, what: str) -> Glossary:
    if report.glossary is not None:
        return report.glossary
    errors = report.errors
    raise SchemaError(
        f"{len(errors)} problem(s) in {what}; first: {errors[0]} "
        f"(run `madoguchi glossary validate {what}` for all)",
        [str(p) for p in report.problems],
    )


def load_glossary(path: str | Path) -> Glossary:
    """Load a data directory, a terms or phrases CSV, an XLSX workbook or a canonical JSON file.

    Raises:
        SchemaError: the files break the format (``.problems`` lists every problem).
        GlossaryError: the path cannot be read.
    """
    p = Path(path)
    if not p.exists():
        raise GlossaryError(f"{p} does not exist; give a data directory, a .csv, .xlsx or .json file")
    if p.is_file() and p.suffix.lower() == ".json":
        try:
            return Glossary.from_json(p.read_bytes())
        except OSError as exc:
            raise GlossaryError(
                f"cannot read {p}: {exc.strerror or exc}; check the path and its permissions"
            ) from exc
    report = validate_path(p)
    g = _raise_for(report, str(p))
    _LOGGER.debug("loaded glossary %s from %s: %d terms", g.version, p, len(g.terms))
    return g


def load_upload(filename: str, data: bytes) -> Glossary:
    """Load one uploaded file (``.csv``, ``.xlsx`` or ``.json``) given by its name and bytes.

    Every format goes through the same validation (a JSON export is checked row by row like the
    tables it came from).
    """
    return _raise_for(validate_upload(filename, data), filename)


def neutralise_cell(value: str) -> str:
    """A cell value that no spreadsheet will run as a formula (apostrophe-prefixed if needed)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _csv_text(header: Iterable[str], rows: Iterable[list[str]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([neutralise_cell(c) for c in row])
    return buf.getvalue()


def terms_csv(terms: Iterable[Term]) -> str:
    """Terms as CSV text (UTF-8 without BOM when encoded)."""
    return _csv_text(TERM_COLUMNS, (term_row(t) for t in sorted(terms, key=lambda t: t.id)))


def phrases_csv(phrases: Iterable[Phrase]) -> str:
    """Phrases as CSV text."""
    return _csv_text(PHRASE_COLUMNS, (phrase_row(p) for p in sorted(phrases, key=lambda p: p.id)))


def write_csv_dir(g: Glossary, out_dir: str | Path) -> list[Path]:
    """Write ``terms/<domain>.csv`` and ``phrases/<situation>.csv`` under ``out_dir``."""
    out = Path(out_dir)
    written: list[Path] = []
    groups: dict[Path, list[Term] | list[Phrase]] = {}
    for name in {t.domain for t in g.terms.values()} | {p.situation for p in g.phrases.values()}:
        if not _FILE_NAME.fullmatch(name):
            raise GlossaryError(
                f"domain or situation {name[:40]!r} cannot name a file; use lowercase letters, digits and _"
            )
    for t in g.terms.values():
        groups.setdefault(out / "terms" / f"{t.domain}.csv", []).append(t)  # type: ignore[arg-type]
    for p in g.phrases.values():
        groups.setdefault(out / "phrases" / f"{p.situation}.csv", []).append(p)  # type: ignore[arg-type]
    try:
        for path, items in sorted(groups.items()):
            path.parent.mkdir(parents=True, exist_ok=True)
            is_terms = path.parent.name == "terms"
            text = terms_csv(items) if is_terms else phrases_csv(items)  # type: ignore[arg-type]
            path.write_text(text, encoding="utf-8", newline="")
            written.append(path)
    except OSError as exc:
        raise GlossaryError(
            f"cannot write to {out}: {exc.strerror or exc}; choose a writable directory"
        ) from exc
    return written


def xlsx_bytes(g: Glossary) -> bytes:
    """The glossary as an XLSX workbook (sheets ``terms``, ``phrases`` and ``about``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheets = [
        ("terms", TERM_COLUMNS, [term_row(t) for t in g.terms.values()]),
        ("phrases", PHRASE_COLUMNS, [phrase_row(p) for p in g.phrases.values()]),
    ]
    first = True
    for name, header, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([neutralise_cell(c) for c in row])
        ws.freeze_panes = "B2"
        for col_cells in ws.iter_cols(min_row=1, max_row=min(ws.max_row, 50)):
            width = max(len(str(c.value or "")) for c in col_cells)
            ws.column_dimensions[col_cells[0].column_letter].width = min(max(10, width * 1.6), 60)
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                cell.data_type = "s"  # text, never a formula
    about = wb.create_sheet("about")
    about.append(["version", g.version])
    about.append(["content_hash", g.content_hash])
    about.append(["created_at", g.created_at or ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_glossary(g: Glossary, out: str | Path, fmt: ExportFormat) -> list[Path]:
    """Export to ``out``: a directory for ``csv``, a file for ``xlsx`` and ``json``."""
    path = Path(out)
    if fmt == "csv":
        return write_csv_dir(g, path)
    data = xlsx_bytes(g) if fmt == "xlsx" else g.canonical_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise GlossaryError(f"cannot write {path}: {exc.strerror or exc}; choose a writable path") from exc
    return [path]
