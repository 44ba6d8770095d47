"""``madoguchi glossary …``: validate, match, diff, export and import glossary files."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import typer

from glossary.diff import diff as diff_glossaries
from glossary.errors import GlossaryError
from glossary.io import export_glossary, load_glossary
from glossary.match import TermMatcher
from glossary.schema import DOMAINS, Glossary
from glossary.validate import summarize, validate_path

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Validate, match, diff, export and import the administrative glossary.")


def _glossary(path: Path | None) -> Glossary:
    if path is None:
        from glossary import bundled_glossary

        return bundled_glossary()
    return load_glossary(path)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _echo_summary(summary: dict[str, Any]) -> None:
    typer.echo(f"version {summary['version']}  ({summary['content_hash'][:16]}…)")
    typer.echo(f"terms: {summary['terms']}  phrases: {summary['phrases']}")
    typer.echo(f"languages: {', '.join(summary['languages']) or '-'}")
    cover = "  ".join(f"{lang} {pct:g}%" for lang, pct in summary["coverage_percent"].items())
    typer.echo(f"coverage: {cover}")
    for key, count in summary["domains"].items():
        label = DOMAINS[key].ja if key in DOMAINS else "?"
        typer.echo(f"  {key:<9} {label:<12} {count}")
    if summary["situations"]:
        typer.echo("phrases by situation: " + ", ".join(f"{k} {v}" for k, v in summary["situations"].items()))
    typer.echo("status: " + ", ".join(f"{k} {v}" for k, v in summary["status"].items()))
    if summary["easy_ja_missing"]:
        typer.echo(f"easy_ja missing: {summary['easy_ja_missing']}")


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A data directory, a terms/phrases CSV or an XLSX workbook."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check glossary files; print every problem as `file:line: field: message`."""
    report = validate_path(path)
    failed = not report.ok or (strict and report.warnings)
    if as_json:
        _echo_json(report.to_dict())
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        if report.glossary is not None:
            _echo_summary(summarize(report.glossary))
        if report.problems:
            typer.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if failed:
        raise typer.Exit(1)


@app.command()
def match(
    text: str = typer.Argument(..., help="Japanese text, e.g. what ASR produced."),
    lang: str | None = typer.Option(None, "--lang", help="Also show the approved term in this language."),
    glossary_path: Path | None = typer.Option(None, "--glossary", help="Glossary (default: bundled)."),
    as_json: bool = typer.Option(False, "--json", help="Print matches as JSON."),
) -> None:
    """Find glossary terms in TEXT (ASR-style kana, widths and spaces included)."""
    g = _glossary(glossary_path)
    matcher = TermMatcher(g)
    t0 = time.perf_counter()
    matches = matcher.find(text)
    elapsed_us = (time.perf_counter() - t0) * 1e6
    rows = []
    for m in matches:
        term = g.term(m.term_id)
        row = m.to_dict() | {"ja": term.ja, "status": term.status}
        if lang:
            row["approved"] = term.translation(lang)
        rows.append(row)
    if as_json:
        _echo_json({"text": text, "matches": rows, "glossary_version": g.version, "elapsed_us": elapsed_us})
        return
    if not rows:
        typer.echo("no glossary term found")
    for row in rows:
        approved = f" → {row['approved']}" if lang else ""
        typer.echo(
            f"{row['start']:>3}-{row['end']:<3} {row['surface']}  [{row['term_id']}] "
            f"{row['ja']}{approved} (via {row['via']}, {row['status']})"
        )


@app.command("diff")
def diff_command(
    a: Path = typer.Argument(..., help="Older glossary (dir, CSV, XLSX or JSON)."),
    b: Path = typer.Argument(..., help="Newer glossary."),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
) -> None:
    """Show terms and phrases added, removed and changed from A to B."""
    d = diff_glossaries(load_glossary(a), load_glossary(b))
    if as_json:
        _echo_json(d.to_dict())
        return
    typer.echo(f"{d.version_a} → {d.version_b}")
    if d.empty:
        typer.echo("no differences")
        return
    for kind, added, removed, changed in (
        ("term", d.added_terms, d.removed_terms, d.changed_terms),
        ("phrase", d.added_phrases, d.removed_phrases, d.changed_phrases),
    ):
        for item in added:
            typer.echo(f"+ {kind} {item}")
        for item in removed:
            typer.echo(f"- {kind} {item}")
        for change in changed:
            typer.echo(f"~ {kind} {change.id}: {', '.join(change.fields)}")


@app.command()
def export(
    source: Path = typer.Argument(..., help="Glossary to export (dir, CSV, XLSX or JSON)."),
    fmt: str = typer.Option("xlsx", "--format", help="csv (a directory), xlsx or json."),
    out: Path | None = typer.Option(None, "--out", help="Output file (xlsx/json) or directory (csv)."),
) -> None:
    """Export a glossary to CSV files, one XLSX workbook or canonical JSON."""
    if fmt not in ("csv", "xlsx", "json"):
        raise GlossaryError(f"unknown format {fmt!r}; use csv, xlsx or json")
    g = load_glossary(source)
    target = out or Path("glossary-export" if fmt == "csv" else f"glossary-export.{fmt}")
    written = export_glossary(g, target, fmt)  # type: ignore[arg-type]
    for path in written:
        typer.echo(str(path))
    typer.echo(f"exported {len(g.terms)} terms, {len(g.phrases)} phrases ({g.version})")


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A CSV or XLSX edited by IT."),
    out: Path = typer.Option(..., "--out", help="Data directory to write terms/*.csv and phrases/*.csv."),
) -> None:
    """Validate FILE and write it as a data directory of CSV files."""
    g = load_glossary(file)
    written = export_glossary(g, out, "csv")
    typer.echo(f"wrote {len(written)} file(s) under {out}: {len(g.terms)} terms, {len(g.phrases)} phrases")
    typer.echo(f"version {g.version}")
