"""Reading glossary files into raw tables: bytes → text → rows with their line numbers.

Nothing here judges the content (that is ``validate.py``); this module only turns CSV and XLSX
bytes into :class:`RawTable` objects and records the problems that stop a file from being read.

Encoding decisions:

- UTF-8 only. A file that is not UTF-8 but decodes as Shift_JIS/CP932 (Excel's plain "CSV"
  format in Japan) is *refused*, never guessed: the message tells how to save it as UTF-8 or
  XLSX. Guessing would turn a mis-saved file into silently wrong translations.
- A UTF-8 BOM (Excel's "CSV UTF-8") is stripped and reported as a warning; exports never write one.
- CSV is RFC 4180 (``csv`` module, strict mode). XLSX is read with openpyxl in read-only mode,
  sheets ``terms`` and ``phrases``; formula cells are reported (never evaluated).
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from glossary.errors import GlossaryError
from glossary.rows import phrase_row, term_row
from glossary.schema import PHRASE_COLUMNS, TERM_COLUMNS, Glossary

_LOGGER = logging.getLogger(__name__)

Severity = Literal["error", "warning"]
TableKind = Literal["terms", "phrases"]

BOM: Final = b"\xef\xbb\xbf"
#: Largest file accepted (CSV or XLSX), bytes. The whole city glossary is far below this.
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
#: An XLSX is a zip: its parts may expand to at most this much (a zip bomb is refused before parsing).
MAX_XLSX_EXPANDED_BYTES: Final = 100 * 1024 * 1024
#: Largest cell accepted, characters.
MAX_CELL_CHARS: Final = 2000

SAVE_AS_UTF8_HINT: Final = (
    "in Excel use File > Save As > 'Excel Workbook (.xlsx)' (preferred) or 'CSV UTF-8 (Comma delimited)'"
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where it is and what to do about it."""

    file: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {self.field}: {tag}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """JSON-able form (for the server's upload report)."""
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class RawRow:
    """One data row: the line it starts on and its cells by column name."""

    line: int
    cells: dict[str, str]


@dataclass
class RawTable:
    """The rows of one CSV file or XLSX sheet, not yet validated."""

    file: str
    kind: TableKind
    columns: tuple[str, ...]
    rows: list[RawRow] = field(default_factory=list)


def expected_columns(kind: TableKind) -> tuple[str, ...]:
    """The header of a terms or phrases table."""
    return TERM_COLUMNS if kind == "terms" else PHRASE_COLUMNS


def _looks_like_cp932(data: bytes) -> bool:
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return False
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def decode_text(data: bytes, file: str, problems: list[Problem]) -> str | None:
    """UTF-8 text of ``data`` (BOM stripped), or None after recording why it cannot be read."""
    if data.startswith(BOM):
        problems.append(
            Problem(file, 1, "file", "starts with a UTF-8 BOM (ignored); save without BOM", "warning")
        )
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if _looks_like_cp932(data):
            msg = f"file is Shift_JIS/CP932, not UTF-8; {SAVE_AS_UTF8_HINT}"
        else:
            msg = f"invalid UTF-8 byte 0x{data[exc.start]:02x} at byte {exc.start}; save the file as UTF-8"
        problems.append(Problem(file, line, "encoding", msg))
        return None


def _header_kind(header: list[str]) -> TableKind | None:
    first = header[0].strip() if header else ""
    if first == "term_id":
        return "terms"
    if first == "phrase_id":
        return "phrases"
    return None


def _table_from_header(
    header: list[str], file: str, line: int, problems: list[Problem], kind: TableKind | None = None
) -> RawTable | None:
    kind = kind or _header_kind(header)
    if kind is None:
        problems.append(
            Problem(file, line, "header", "first column must be 'term_id' (terms) or 'phrase_id' (phrases)")
        )
        return None
    names = [h.strip() for h in header]
    expected = expected_columns(kind)
    ok = True
    for col in expected:
        if col not in names:
            problems.append(Problem(file, line, col, f"missing column {col!r} in the header"))
            ok = False
    seen: set[str] = set()
    for col in names:
        if col in seen:
            problems.append(Problem(file, line, col, f"column {col!r} appears twice in the header"))
            ok = False
        seen.add(col)
        if col not in expected and col:
            problems.append(Problem(file, line, col, f"unknown column {col!r} is ignored", "warning"))
    if not ok:
        return None
    return RawTable(file=file, kind=kind, columns=tuple(names))


def _is_blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def read_csv_text(text: str, file: str, problems: list[Problem]) -> RawTable | None:
    """Parse CSV text (RFC 4180, header row) into a table; problems are appended."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    table: RawTable | None = None
    start = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(file, start, "csv", f"cannot parse CSV: {exc}"))
            return None
        if table is None:
            table = _table_from_header(cells, file, start, problems)
            if table is None:
                return None
            continue
        if _is_blank(cells):
            continue
        if len(cells) != len(table.columns):
            problems.append(
                Problem(
                    file,
                    start,
                    "row",
                    f"row has {len(cells)} cells but the header has {len(table.columns)} "
                    "(quote cells that contain commas)",
                )
            )
            continue
        table.rows.append(RawRow(start, dict(zip(table.columns, cells, strict=True))))
    if table is None:
        problems.append(Problem(file, 1, "header", "file is empty; expected a header row"))
    return table


def read_csv_bytes(data: bytes, file: str, problems: list[Problem]) -> RawTable | None:
    """Decode and parse one CSV file."""
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(file, None, "file", f"file is larger than {MAX_FILE_BYTES // 2**20} MiB"))
        return None
    text = decode_text(data, file, problems)
    return None if text is None else read_csv_text(text, file, problems)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx_bytes(data: bytes, file: str, problems: list[Problem]) -> list[RawTable]:
    """Read sheets ``terms`` and ``phrases`` of an XLSX workbook; formula cells become problems."""
    import openpyxl  # local: only imports and exports need it
    from openpyxl.utils.exceptions import InvalidFileException

    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(file, None, "file", f"file is larger than {MAX_FILE_BYTES // 2**20} MiB"))
        return []
    try:
        expanded = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        problems.append(Problem(file, None, "file", f"not a readable XLSX workbook ({exc}); save as .xlsx"))
        return []
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        problems.append(
            Problem(file, None, "file", f"workbook expands to {expanded // 2**20} MiB, more than "
                    f"{MAX_XLSX_EXPANDED_BYTES // 2**20} MiB; save only the terms and phrases sheets")
        )  # fmt: skip
        return []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError) as exc:
        problems.append(Problem(file, None, "file", f"not a readable XLSX workbook ({exc}); save as .xlsx"))
        return []
    tables: list[RawTable] = []
    try:
        sheets = {name.strip().lower(): name for name in wb.sheetnames}
        if "terms" not in sheets and "phrases" not in sheets:
            problems.append(
                Problem(file, None, "sheet", "workbook needs a sheet named 'terms' and/or 'phrases'")
            )
        for kind in ("terms", "phrases"):
            if kind not in sheets:
                continue
            table = _read_sheet(wb[sheets[kind]], f"{file}[{kind}]", kind, problems)
            if table is not None:
                tables.append(table)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        problems.append(Problem(file, None, "file", f"not a readable XLSX workbook ({exc}); save as .xlsx"))
    finally:
        wb.close()
    return tables


def _read_sheet(ws: object, file: str, kind: TableKind, problems: list[Problem]) -> RawTable | None:
    table: RawTable | None = None
    for row_no, row in enumerate(ws.iter_rows(), start=1):  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                col = table.columns[len(cells)] if table and len(cells) < len(table.columns) else "cell"
                problems.append(
                    Problem(file, row_no, col, "cell holds a spreadsheet formula; type the value as text")
                )
            cells.append(_cell_text(getattr(cell, "value", None)))
        if table is None:
            if _is_blank(cells):
                continue
            while cells and not cells[-1].strip():
                cells.pop()
            table = _table_from_header(cells, file, row_no, problems, kind)
            if table is None:
                return None
            continue
        if _is_blank(cells):
            continue
        width = len(table.columns)
        extra = cells[width:]
        if any(c.strip() for c in extra):
            problems.append(Problem(file, row_no, "row", f"row has values beyond the {width} header columns"))
            continue
        cells = (cells + [""] * width)[:width]
        table.rows.append(RawRow(row_no, dict(zip(table.columns, cells, strict=True))))
    if table is None:
        problems.append(Problem(file, 1, "header", f"sheet {kind!r} is empty; expected a header row"))
    return table


def read_json_bytes(data: bytes, file: str, problems: list[Problem]) -> list[RawTable]:
    """A canonical JSON export as its two tables, so it gets exactly the checks a CSV/XLSX gets."""
    try:
        g = Glossary.from_json(data)
    except GlossaryError as exc:
        problems.append(Problem(file, None, "file", f"not a glossary JSON export: {exc}"))
        return []
    terms = RawTable(file, "terms", TERM_COLUMNS)
    for line, t in enumerate(g.terms.values(), start=1):
        terms.rows.append(RawRow(line, dict(zip(TERM_COLUMNS, term_row(t), strict=True))))
    phrases = RawTable(file, "phrases", PHRASE_COLUMNS)
    for line, ph in enumerate(g.phrases.values(), start=1):
        phrases.rows.append(RawRow(line, dict(zip(PHRASE_COLUMNS, phrase_row(ph), strict=True))))
    return [terms, phrases]


def read_upload(filename: str, data: bytes, problems: list[Problem]) -> list[RawTable]:
    """Read one uploaded file (``.csv``, ``.xlsx`` or a ``.json`` export) by name and bytes."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        return read_xlsx_bytes(data, filename, problems)
    if suffix == ".json":
        return read_json_bytes(data, filename, problems)
    if suffix in (".csv", ".txt"):
        table = read_csv_bytes(data, filename, problems)
        return [table] if table is not None else []
    problems.append(
        Problem(filename, None, "file", "unsupported file type; upload a .csv, .xlsx or .json file")
    )
    return []


def read_path(path: Path, problems: list[Problem]) -> list[RawTable]:
    """Read a data directory (``terms/*.csv``, ``phrases/*.csv``), one CSV or one XLSX."""
    if path.is_dir():
        files = sorted(path.glob("terms/*.csv")) + sorted(path.glob("phrases/*.csv"))
        if not files:
            files = sorted(path.glob("*.csv")) + sorted(path.glob("*.xlsx"))
        if not files:
            problems.append(Problem(str(path), None, "dir", "no terms/*.csv, phrases/*.csv or *.csv found"))
        tables: list[RawTable] = []
        for f in files:
            tables.extend(read_path(f, problems))
        return tables
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(str(path), None, "file", f"cannot read: {exc.strerror or exc}"))
        return []
    return read_upload(str(path), data, problems)
