"""Loading and exporting: CSV and XLSX round-trips, uploads, CSV injection on export."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from glossary import Glossary, GlossaryError, load_glossary, load_upload
from glossary.io import export_glossary, neutralise_cell, terms_csv, xlsx_bytes


def test_csv_dir_round_trip(small_glossary: Glossary, tmp_path: Path) -> None:
    """load → export CSV → load gives the identical content hash."""
    written = export_glossary(small_glossary, tmp_path / "out", "csv")
    assert {p.relative_to(tmp_path / "out").as_posix() for p in written} == {
        "terms/res.csv", "terms/mynum.csv", "terms/tax.csv", "phrases/reception.csv", "phrases/waiting.csv",
    }  # fmt: skip
    again = load_glossary(tmp_path / "out")
    assert again.content_hash == small_glossary.content_hash
    assert not (tmp_path / "out" / "terms" / "res.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_round_trip(small_glossary: Glossary, tmp_path: Path) -> None:
    """load → export XLSX → load gives the identical content hash; cells are text."""
    (path,) = export_glossary(small_glossary, tmp_path / "g.xlsx", "xlsx")
    again = load_glossary(path)
    assert again.content_hash == small_glossary.content_hash
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["terms", "phrases", "about"]
    assert wb["about"]["B2"].value == small_glossary.content_hash


def test_json_round_trip(small_glossary: Glossary, tmp_path: Path) -> None:
    """Canonical JSON export loads back equal (version included)."""
    (path,) = export_glossary(small_glossary, tmp_path / "g.json", "json")
    assert load_glossary(path) == small_glossary


def test_single_terms_csv_and_upload(small_glossary: Glossary, data_dir: Path) -> None:
    """A single terms CSV loads alone; an upload by name and bytes gives the same terms."""
    g = load_glossary(data_dir / "terms" / "res.csv")
    assert set(g.terms) == {t for t in small_glossary.terms if t.startswith("res.")}
    assert not g.phrases
    up = load_upload("res.csv", (data_dir / "terms" / "res.csv").read_bytes())
    assert up.content_hash == g.content_hash
    xl = load_upload("city.xlsx", xlsx_bytes(small_glossary))
    assert xl.content_hash == small_glossary.content_hash


def test_missing_path_is_a_glossary_error(tmp_path: Path) -> None:
    """A path that does not exist gives one actionable GlossaryError."""
    with pytest.raises(GlossaryError, match="does not exist"):
        load_glossary(tmp_path / "nope")


def test_export_neutralises_formula_like_cells(small_glossary: Glossary) -> None:
    """Cells that would run as formulas are apostrophe-prefixed in CSV and stay text in XLSX."""
    import dataclasses

    term = small_glossary.term("res.juminhyo")
    evil = dataclasses.replace(term, explanation_en='=HYPERLINK("http://evil")', source="@cmd")
    text = terms_csv([evil])
    assert "'=HYPERLINK" in text and "'@cmd" in text
    assert neutralise_cell("-1") == "'-1" and neutralise_cell("住民票") == "住民票"
    g = Glossary.from_items([evil])
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(g)))
    cells = [c for row in wb["terms"].iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
