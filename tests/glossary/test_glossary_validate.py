"""Validation finds every kind of problem, with file, line and field."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from glossary import SchemaError, load_glossary, validate_path, validate_upload
from glossary.schema import PHRASE_COLUMNS, TERM_COLUMNS

GOOD_TERM: dict[str, str] = {
    "term_id": "res.juminhyo",
    "domain": "res",
    "ja": "住民票",
    "reading": "じゅうみんひょう",
    "variants": "",
    "en": "residence certificate",
    "vi": "giấy chứng nhận cư trú",
    "zh": "住民票",
    "tl": "residence certificate",
    "pt": "atestado de residência",
    "ne": "निवास प्रमाणपत्र",
    "ko": "주민표",
    "id": "surat keterangan domisili",
    "es": "certificado de residencia",
    "easy_ja": "すんでいる ところの かみ",
    "explanation_en": "",
    "status": "draft",
    "source": "",
}
GOOD_PHRASE: dict[str, str] = {
    "phrase_id": "reception.welcome",
    "situation": "reception",
    "ja": "こんにちは。",
    "easy_ja": "こんにちは。",
    **{lang: "hello" for lang in ("en", "vi", "zh", "tl", "pt", "ne", "ko", "id", "es")},
    "status": "draft",
    "source": "",
}


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] = TERM_COLUMNS) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def write(tmp_path: Path, rows: list[dict[str, str]], name: str = "terms.csv") -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def term(**changes: str) -> dict[str, str]:
    return GOOD_TERM | changes


def problems_of(path: Path) -> list[str]:
    return [str(p) for p in validate_path(path).problems]


def test_good_file_is_valid(tmp_path: Path) -> None:
    """A correct row gives no problem and a glossary."""
    report = validate_path(write(tmp_path, [term()]))
    assert report.problems == []
    assert report.glossary is not None and "res.juminhyo" in report.glossary.terms


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"vi": ""}, "vi", "empty translation"),
        ({"term_id": "res.Juminhyo"}, "term_id", "bad id"),
        ({"term_id": "res-juminhyo"}, "term_id", "bad id"),
        ({"term_id": "tax.juminhyo"}, "term_id", "must start with 'res.'"),
        ({"domain": "housing", "term_id": "housing.x"}, "domain", "unknown domain"),
        ({"status": "approved"}, "status", "unknown status"),
        ({"ja": "住民票 "}, "ja", "leading or trailing whitespace"),
        ({"en": " residence certificate"}, "en", "leading or trailing whitespace"),
        ({"en": "residence  certificate"}, "en", "double space"),
        ({"en": "residence\u00a0certificate"}, "en", "non-breaking space"),
        ({"reading": "ジュウミンヒョウ"}, "reading", "hiragana only"),
        ({"reading": "juminhyo"}, "reading", "hiragana only"),
        ({"reading": ""}, "reading", "reading is empty"),
        ({"ja": ""}, "ja", "headword is empty"),
        ({"en": '=HYPERLINK("http://x")'}, "en", "formula"),
        ({"vi": "+cmd"}, "vi", "formula"),
        ({"source": "@SUM(A1)"}, "source", "formula"),
        ({"explanation_en": "x" * 2001}, "explanation_en", "max 2000"),
        ({"variants": "住民票のうつし||じゅうみんひょう"}, "variants", "empty variant"),
        ({"en": "line\nbreak"}, "en", "line break"),
    ],
)
def test_each_row_problem_is_reported(
    tmp_path: Path, changes: dict[str, str], field: str, needle: str
) -> None:
    """Each kind of bad cell is reported as file:line: field: message and blocks loading."""
    path = write(tmp_path, [term(), term(**({"term_id": "res.juminhyo_two", "ja": "住民票二"} | changes))])
    report = validate_path(path)
    assert not report.ok
    hits = [p for p in report.errors if p.field == field and needle in p.message]
    assert hits, report.problems
    assert hits[0].line == 3 and hits[0].file == str(path)
    assert str(hits[0]).startswith(f"{path}:3: {field}: ")
    with pytest.raises(SchemaError) as exc:
        load_glossary(path)
    assert any(needle in p for p in exc.value.problems)


def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    """Three bad rows give at least three errors on three lines."""
    rows = [term(), term(term_id="res.a", ja="あ一", vi=""), term(term_id="res.b", ja="あ二", status="x"),
            term(term_id="BAD", ja="あ三")]  # fmt: skip
    lines = {p.line for p in validate_path(write(tmp_path, rows)).errors}
    assert {3, 4, 5} <= lines


def test_missing_language_column(tmp_path: Path) -> None:
    """A header without the 'ne' column names that column."""
    columns = tuple(c for c in TERM_COLUMNS if c != "ne")
    path = tmp_path / "terms.csv"
    path.write_text(csv_text([term()], columns), encoding="utf-8")
    assert f"{path}:1: ne: missing column 'ne' in the header" in problems_of(path)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    """The same id in two files is an error pointing at the first one."""
    (tmp_path / "terms").mkdir()
    write(tmp_path / "terms", [term()], "a.csv")
    write(tmp_path / "terms", [term(ja="住民票一")], "b.csv")
    report = validate_path(tmp_path)
    dup = [p for p in report.errors if "duplicate id" in p.message]
    assert dup and dup[0].file.endswith("b.csv") and "a.csv:2" in dup[0].message


def test_duplicate_headword_with_another_meaning(tmp_path: Path) -> None:
    """Same ja under two ids: an error when the meanings differ, a warning when they are the same."""
    rows = [term(), term(term_id="res.other", en="other thing")]
    report = validate_path(write(tmp_path, rows))
    assert any(p.field == "ja" and "another meaning" in p.message for p in report.errors)
    same = validate_path(write(tmp_path, [term(), term(term_id="res.same")], "same.csv"))
    assert same.ok
    assert any("same translations" in p.message for p in same.warnings)


def test_easy_ja_missing_is_a_warning(tmp_path: Path) -> None:
    """Missing Easy Japanese warns but still loads."""
    report = validate_path(write(tmp_path, [term(easy_ja="")]))
    assert report.ok and report.glossary is not None
    assert [p.field for p in report.warnings] == ["easy_ja"]


def test_bom_is_reported_and_stripped(tmp_path: Path) -> None:
    """A UTF-8 BOM (Excel 'CSV UTF-8') is a warning on line 1; the file still loads."""
    path = tmp_path / "terms.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([term()]).encode())
    report = validate_path(path)
    assert report.ok
    assert any(p.line == 1 and "BOM" in p.message for p in report.warnings)


def test_cp932_file_is_refused_with_advice(tmp_path: Path) -> None:
    """A Shift_JIS/CP932 file (Excel 'CSV' in Japan) is refused with how to save as UTF-8."""
    path = tmp_path / "terms.csv"
    rows = [term(vi="giay chung nhan", pt="atestado", ne="residence", ko="jumin", es="certificado")]
    path.write_bytes(csv_text(rows).encode("cp932"))
    (problem,) = validate_path(path).errors
    assert problem.field == "encoding"
    assert "Shift_JIS/CP932" in problem.message and "UTF-8" in problem.message


def test_invalid_utf8_gives_the_line(tmp_path: Path) -> None:
    """Bytes that are neither UTF-8 nor CP932 are reported with their line."""
    path = tmp_path / "terms.csv"
    path.write_bytes(csv_text([term()]).encode() + b"res.x,res,\xff\xfe\xff\n")
    (problem,) = validate_path(path).errors
    assert problem.field == "encoding" and problem.line == 3 and "invalid UTF-8" in problem.message


def test_wrong_cell_count_and_unknown_header(tmp_path: Path) -> None:
    """A short row and a file that is no glossary CSV are both reported."""
    path = tmp_path / "terms.csv"
    path.write_text(csv_text([term()]) + "res.x,res,住民\n", encoding="utf-8")
    assert any("row has 3 cells" in p for p in problems_of(path))
    other = tmp_path / "other.csv"
    other.write_text("name,value\na,b\n", encoding="utf-8")
    assert any("first column must be 'term_id'" in p for p in problems_of(other))


def test_phrase_rows_are_checked(tmp_path: Path) -> None:
    """Phrase files: id prefix, empty translation, unknown situation (warning)."""
    path = tmp_path / "phrases.csv"
    rows = [GOOD_PHRASE, GOOD_PHRASE | {"phrase_id": "waiting.x", "en": ""},
            GOOD_PHRASE | {"phrase_id": "lunch.x", "situation": "lunch"}]  # fmt: skip
    path.write_text(csv_text(rows, PHRASE_COLUMNS), encoding="utf-8")
    report = validate_path(path)
    assert any(p.line == 3 and p.field == "phrase_id" for p in report.errors)
    assert any(p.line == 3 and p.field == "en" for p in report.errors)
    assert any(p.line == 4 and p.field == "situation" for p in report.warnings)


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "terms"
    ws.append(list(TERM_COLUMNS))
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_formula_cell_is_refused() -> None:
    """A formula in an XLSX cell is reported with its sheet, row and column."""
    row: list[object] = [GOOD_TERM[c] for c in TERM_COLUMNS]
    row[TERM_COLUMNS.index("en")] = "=1+1"
    report = validate_upload("glossary.xlsx", _xlsx([row]))
    assert any(
        p.file == "glossary.xlsx[terms]" and p.line == 2 and p.field == "en" and "formula" in p.message
        for p in report.errors
    ), report.problems


def test_upload_of_unknown_type_and_broken_xlsx() -> None:
    """Unsupported uploads and corrupt workbooks are problems, not crashes."""
    assert not validate_upload("glossary.pdf", b"%PDF").ok
    report = validate_upload("glossary.xlsx", b"PK\x03\x04 not really a zip")
    assert not report.ok and "XLSX" in report.errors[0].message


def test_fixture_data_is_valid(data_dir: Path) -> None:
    """The test fixture itself passes validation without warnings."""
    report = validate_path(data_dir)
    assert report.problems == []
