"""Checking glossary files: every problem, with file, line and field, in one report.

A :class:`Report` lists *all* problems (not just the first), so IT fixes a spreadsheet in one go.
Errors block loading and publishing; warnings (missing Easy Japanese, a BOM, an unknown column)
do not. When there is no error the report also carries the built :class:`Glossary`.

Formula-like cells (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are
refused on import: no term needs one, and refusing keeps CSV injection out of every later export.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from glossary.schema import (
    DOMAINS,
    SITUATIONS,
    STATUSES,
    TRANSLATION_LANGUAGES,
    Glossary,
    Phrase,
    Term,
)
from glossary.sources import MAX_CELL_CHARS, Problem, RawRow, RawTable, read_path, read_upload

_LOGGER = logging.getLogger(__name__)

_ID_RE: Final = re.compile(r"^([a-z][a-z0-9]*)\.([a-z0-9]+(?:_[a-z0-9]+)*)$")
_READING_RE: Final = re.compile(r"^[\u3041-\u3096\u309d\u309e\u30fc]+$")
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
EASY_JA_MAX_CHARS: Final = 40
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Report:
    """The outcome of validating one or more glossary files."""

    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    glossary: Glossary | None = None

    @property
    def errors(self) -> list[Problem]:
        """Problems that block loading."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems worth fixing that do not block loading."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not self.errors

    def to_dict(self) -> dict[str, object]:
        """JSON-able form (for the server's upload page)."""
        return {
            "ok": self.ok,
            "files": list(self.files),
            "problems": [p.to_dict() for p in self.problems],
            "summary": summarize(self.glossary) if self.glossary else None,
        }


def _check_cell(value: str, file: str, line: int, col: str, problems: list[Problem]) -> None:
    if not value:
        return
    if len(value) > MAX_CELL_CHARS:
        problems.append(Problem(file, line, col, f"cell has {len(value)} characters (max {MAX_CELL_CHARS})"))
        return
    if value.startswith(FORMULA_PREFIXES):
        problems.append(
            Problem(file, line, col, f"cell starts with {value[0]!r} like a spreadsheet formula; reword it")
        )
    if _CONTROL_RE.search(value) or "\n" in value or "\r" in value:
        problems.append(Problem(file, line, col, "cell contains a line break or control character"))
    if "\u00a0" in value:
        problems.append(Problem(file, line, col, "cell contains a non-breaking space (NBSP); use a space"))
    if value != value.strip() or value != value.strip(" \u3000\u00a0\t"):
        problems.append(Problem(file, line, col, "leading or trailing whitespace"))
    if "  " in value or "\u3000\u3000" in value:
        problems.append(Problem(file, line, col, "double space"))


def _check_id(
    value: str, prefix: str, file: str, line: int, col: str, problems: list[Problem], example: str
) -> None:
    m = _ID_RE.match(value)
    if not m:
        problems.append(
            Problem(file, line, col, f"bad id {value!r}: use '<key>.<ascii_snake_slug>' like {example!r}")
        )
    elif prefix and m.group(1) != prefix:
        problems.append(Problem(file, line, col, f"id {value!r} must start with {prefix + '.'!r}"))


def _check_translations(row: RawRow, file: str, problems: list[Problem]) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang in TRANSLATION_LANGUAGES:
        value = row.cells.get(lang, "")
        if not value.strip():
            problems.append(Problem(file, row.line, lang, "empty translation"))
        out[lang] = value
    return out


def _check_status(row: RawRow, file: str, problems: list[Problem]) -> None:
    status = row.cells.get("status", "")
    if status not in STATUSES:
        problems.append(
            Problem(file, row.line, "status", f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        )


def _check_easy(row: RawRow, file: str, problems: list[Problem]) -> None:
    easy = row.cells.get("easy_ja", "")
    if not easy.strip():
        problems.append(Problem(file, row.line, "easy_ja", "Easy Japanese is missing", "warning"))
    elif len(easy) > EASY_JA_MAX_CHARS:
        problems.append(
            Problem(
                file,
                row.line,
                "easy_ja",
                f"Easy Japanese has {len(easy)} characters (keep ≤ {EASY_JA_MAX_CHARS})",
                "warning",
            )
        )


def _check_cells(row: RawRow, file: str, problems: list[Problem]) -> None:
    for col, value in row.cells.items():
        _check_cell(value, file, row.line, col, problems)


def _check_shared_columns(row: RawRow, file: str, problems: list[Problem]) -> dict[str, str]:
    """Check the columns terms and phrases share (translations, easy_ja, status); return the translations."""
    translations = _check_translations(row, file, problems)
    _check_easy(row, file, problems)
    _check_status(row, file, problems)
    return translations


def _check_variants(row: RawRow, file: str, problems: list[Problem]) -> tuple[str, ...]:
    """The '|'-separated spelling variants of a term, without empty, padded or repeated ones."""
    raw = row.cells.get("variants", "")
    if not raw:
        return ()
    variants: list[str] = []
    for v in raw.split("|"):
        if not v.strip():
            problems.append(Problem(file, row.line, "variants", "empty variant between '|' separators"))
        elif v != v.strip():
            problems.append(Problem(file, row.line, "variants", f"variant {v!r} has stray whitespace"))
        elif v in variants or v == row.cells.get("ja"):
            problems.append(
                Problem(file, row.line, "variants", f"variant {v!r} repeats the headword", "warning")
            )
        else:
            variants.append(v)
    return tuple(variants)


def term_from_row(row: RawRow, file: str, problems: list[Problem]) -> Term:
    """Check one terms row and build its Term (built even when problems were found)."""
    c = row.cells
    _check_cells(row, file, problems)
    domain = c.get("domain", "")
    if domain not in DOMAINS:
        problems.append(
            Problem(file, row.line, "domain", f"unknown domain {domain!r}; use one of {', '.join(DOMAINS)}")
        )
    _check_id(c.get("term_id", ""), domain, file, row.line, "term_id", problems, "res.juminhyo_copy")
    if not c.get("ja", "").strip():
        problems.append(Problem(file, row.line, "ja", "the Japanese headword is empty"))
    reading = c.get("reading", "")
    if not reading:
        problems.append(Problem(file, row.line, "reading", "the reading is empty; write it in hiragana"))
    elif not _READING_RE.match(reading):
        problems.append(Problem(file, row.line, "reading", f"reading {reading!r} must be hiragana only"))
    variants = _check_variants(row, file, problems)
    translations = _check_shared_columns(row, file, problems)
    return Term(
        id=c.get("term_id", ""),
        domain=domain,
        ja=c.get("ja", ""),
        reading=reading,
        variants=variants,
        translations=translations,
        easy_ja=c.get("easy_ja", ""),
        explanation_en=c.get("explanation_en", ""),
        status=c.get("status", ""),
        source=c.get("source", ""),
    )


def phrase_from_row(row: RawRow, file: str, problems: list[Problem]) -> Phrase:
    """Check one phrases row and build its Phrase (built even when problems were found)."""
    c = row.cells
    _check_cells(row, file, problems)
    situation = c.get("situation", "")
    if not re.fullmatch(r"[a-z][a-z0-9]*", situation):
        problems.append(Problem(file, row.line, "situation", f"bad situation key {situation!r}"))
    elif situation not in SITUATIONS:
        problems.append(
            Problem(file, row.line, "situation", f"situation {situation!r} is not a known one", "warning")
        )
    _check_id(c.get("phrase_id", ""), situation, file, row.line, "phrase_id", problems, "reception.welcome")
    if not c.get("ja", "").strip():
        problems.append(Problem(file, row.line, "ja", "the Japanese sentence is empty"))
    translations = _check_shared_columns(row, file, problems)
    return Phrase(
        id=c.get("phrase_id", ""),
        situation=situation,
        ja=c.get("ja", ""),
        easy_ja=c.get("easy_ja", ""),
        translations=translations,
        status=c.get("status", ""),
        source=c.get("source", ""),
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _cross_check(
    terms: list[tuple[Term, str, int]], phrases: list[tuple[Phrase, str, int]], problems: list[Problem]
) -> None:
    # Terms and phrases are separate namespaces (g.terms, g.phrases): ids are unique within each.
    _check_unique_ids(terms, "term_id", problems)
    _check_unique_ids(phrases, "phrase_id", problems)
    _check_headwords(terms, problems)
    _check_variant_owners(terms, problems)


def _check_unique_ids(
    entries: Sequence[tuple[Term | Phrase, str, int]], col: str, problems: list[Problem]
) -> None:
    first_seen: dict[str, tuple[str, int]] = {}
    for item, file, line in entries:
        if not item.id:
            continue
        if item.id in first_seen:
            f0, l0 = first_seen[item.id]
            problems.append(Problem(file, line, col, f"duplicate id {item.id!r} (first at {f0}:{l0})"))
        else:
            first_seen[item.id] = (file, line)


def _check_headwords(terms: list[tuple[Term, str, int]], problems: list[Problem]) -> None:
    """Two ids with one headword: a warning if they mean the same, an error if they do not."""
    by_head: dict[str, list[tuple[Term, str, int]]] = defaultdict(list)
    for entry in terms:
        if entry[0].ja:
            by_head[_fold(entry[0].ja)].append(entry)
    for head, entries in by_head.items():
        ids = {e[0].id for e in entries}
        if len(ids) < 2:
            continue
        t0, f0, l0 = entries[0]
        for t, file, line in entries[1:]:
            if t.id == t0.id:
                continue
            if dict(t.translations) == dict(t0.translations):
                problems.append(
                    Problem(
                        file,
                        line,
                        "ja",
                        f"headword {head!r} duplicates {t0.id} ({f0}:{l0}) with the same translations;"
                        " keep one id",
                        "warning",
                    )
                )
            else:
                problems.append(
                    Problem(
                        file,
                        line,
                        "ja",
                        f"headword {head!r} is also {t0.id} ({f0}:{l0}) with another meaning; "
                        "make the headwords distinct (add the qualifier, e.g. 国民健康保険の…)",
                    )
                )


def _check_variant_owners(terms: list[tuple[Term, str, int]], problems: list[Problem]) -> None:
    """A variant that is also the headword or a variant of another term cannot be matched to one."""
    forms: dict[str, str] = {}
    for t, _, _ in terms:
        forms.setdefault(_fold(t.ja), t.id)
    for t, file, line in terms:
        for v in t.variants:
            owner = forms.setdefault(_fold(v), t.id)
            if owner != t.id:
                problems.append(
                    Problem(
                        file,
                        line,
                        "variants",
                        f"variant {v!r} is also a form of {owner}; the matcher cannot tell them apart",
                        "warning",
                    )
                )


def validate_tables(tables: list[RawTable], problems: list[Problem] | None = None) -> Report:
    """Check raw tables and, if nothing is an error, build the glossary into the report."""
    report = Report(problems=list(problems or []), files=[t.file for t in tables])
    terms: list[tuple[Term, str, int]] = []
    phrases: list[tuple[Phrase, str, int]] = []
    for table in tables:
        for row in table.rows:
            if table.kind == "terms":
                terms.append((term_from_row(row, table.file, report.problems), table.file, row.line))
            else:
                phrases.append((phrase_from_row(row, table.file, report.problems), table.file, row.line))
    _cross_check(terms, phrases, report.problems)
    if report.ok:
        report.glossary = Glossary.from_items([t for t, _, _ in terms], [p for p, _, _ in phrases])
    return report


def validate_path(path: str | Path) -> Report:
    """Validate a data directory, one CSV or one XLSX file."""
    problems: list[Problem] = []
    tables = read_path(Path(path), problems)
    return validate_tables(tables, problems)


def validate_upload(filename: str, data: bytes) -> Report:
    """Validate one uploaded file (``.csv`` or ``.xlsx``) given by name and bytes."""
    problems: list[Problem] = []
    tables = read_upload(filename, data, problems)
    return validate_tables(tables, problems)


def summarize(g: Glossary) -> dict[str, object]:
    """Counts for the validate summary: terms, phrases, coverage per language, per domain, status."""
    items = [*g.terms.values(), *g.phrases.values()]
    total = len(items) or 1
    coverage = {
        lang: round(100.0 * sum(1 for i in items if i.translations.get(lang, "").strip()) / total, 1)
        for lang in TRANSLATION_LANGUAGES
    }
    return {
        "version": g.version,
        "content_hash": g.content_hash,
        "terms": len(g.terms),
        "phrases": len(g.phrases),
        "languages": list(g.languages),
        "coverage_percent": coverage,
        "domains": dict(sorted(Counter(t.domain for t in g.terms.values()).items())),
        "situations": dict(sorted(Counter(p.situation for p in g.phrases.values()).items())),
        "status": dict(sorted(Counter(i.status for i in items).items())),
        "easy_ja_missing": sum(1 for i in items if not i.easy_ja.strip()),
    }
