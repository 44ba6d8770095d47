"""The glossary shipped in glossary/data: valid, loadable, matchable."""

from __future__ import annotations

from glossary import TermMatcher, bundled_glossary, validate_path
from glossary.__init__ import bundled_data_dir


def test_bundled_data_is_there() -> None:
    """The data directory ships terms and phrases (a packaging mistake would leave it empty)."""
    assert len(list(bundled_data_dir().glob("terms/*.csv"))) == 12
    assert len(list(bundled_data_dir().glob("phrases/*.csv"))) >= 20


def test_bundled_data_has_no_errors() -> None:
    """Every bundled file passes validation (warnings are listed in the report only)."""
    report = validate_path(bundled_data_dir())
    assert report.errors == [], "\n".join(str(p) for p in report.errors[:20])


def test_bundled_glossary_is_cached_and_matches_its_headwords() -> None:
    """bundled_glossary() is loaded once; every headword is found as its own term."""
    g = bundled_glossary()
    assert bundled_glossary() is g
    assert g.terms
    matcher = TermMatcher(g)
    misses = [t.id for t in g.terms.values() if t.id not in matcher.find_ids(t.ja)]
    assert misses == []


def test_bundled_round_trips_through_csv_and_xlsx(tmp_path) -> None:
    """Export of the bundled data to CSV and to XLSX loads back with the same content hash."""
    from glossary import export_glossary, load_glossary

    g = bundled_glossary()
    export_glossary(g, tmp_path / "csv", "csv")
    assert load_glossary(tmp_path / "csv").content_hash == g.content_hash
    (xlsx,) = export_glossary(g, tmp_path / "g.xlsx", "xlsx")
    assert load_glossary(xlsx).content_hash == g.content_hash
    assert repr(g).startswith("Glossary(version=")
