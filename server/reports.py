"""Usage reports for the console, the CSV export and the admin API, with small-cell suppression.

Decision (DESIGN.md, "Counts cannot single out a resident"): a cell is site × ISO week ×
resident language. Within each site and week, languages with fewer than ``threshold`` turns are
merged into ``other``; if ``other`` itself stays under the threshold its number is suppressed
(shown as ``<5``). Fleet-wide charts (week × language) follow the same rule, and so do the top
term and phrase lists (an id used fewer times than the threshold is not listed) and every row of
``GET /api/v1/admin/usage/totals`` (:func:`totals`): no output shows a count under the threshold.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.usage_counts import ItemRowT, TurnRowT

OTHER = "other"

#: Kinds counted without a key: one cell per group.
KEYLESS_KINDS = frozenset({"turn", "langid_mismatch", "flagged"})


@dataclass(frozen=True)
class Cell:
    """Turns of one language in one group (site and/or week); ``turns`` is None when suppressed."""

    site: str
    week: str
    language: str
    turns: int | None

    @property
    def label(self) -> str:
        """The cell as shown: ``<5`` when suppressed, else the count."""
        return "<5" if self.turns is None else str(self.turns)


def iso_week(day: dt.date) -> str:
    """``2026-W48`` for a date."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def suppress(counts: dict[str, int], threshold: int) -> dict[str, int | None]:
    """Merge languages under ``threshold`` into ``other``; suppress ``other`` if still under it."""
    shown: dict[str, int | None] = {}
    other = 0
    for language, turns in counts.items():
        if turns >= threshold:
            shown[language] = turns
        else:
            other += turns
    if other:
        shown[OTHER] = other if other >= threshold else None
    return shown


def _turns(rows: Iterable[TurnRowT]) -> dict[tuple[str, str, str], int]:
    grouped: dict[tuple[str, str, str], int] = defaultdict(int)
    for site, week, language, turns in rows:
        grouped[(site, iso_week(week), language)] += turns
    return grouped


def site_week_cells(rows: Sequence[TurnRowT], threshold: int) -> list[Cell]:
    """Cells per site × week × language, suppressed."""
    per_group: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (site, week, language), turns in _turns(rows).items():
        per_group[(site, week)][language] = turns
    cells: list[Cell] = []
    for (site, week), counts in sorted(per_group.items()):
        for language, turns in sorted(suppress(counts, threshold).items(), key=_language_order):
            cells.append(Cell(site, week, language, turns))
    return cells


def week_cells(rows: Sequence[TurnRowT], threshold: int) -> list[Cell]:
    """Fleet-wide cells per week × language, suppressed (site is ``""``)."""
    per_week: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_site, week, language), turns in _turns(rows).items():
        per_week[week][language] += turns
    return [
        Cell("", week, language, turns)
        for week, counts in sorted(per_week.items())
        for language, turns in sorted(suppress(dict(counts), threshold).items(), key=_language_order)
    ]


def site_cells(rows: Sequence[TurnRowT], threshold: int) -> list[Cell]:
    """Turns per site over all weeks (all languages), suppressed under the threshold."""
    per_site: dict[str, int] = defaultdict(int)
    for (site, _week, _language), turns in _turns(rows).items():
        per_site[site] += turns
    return [Cell(site, "", "", t if t >= threshold else None) for site, t in sorted(per_site.items())]


def top_items(rows: Sequence[ItemRowT], kind: str, threshold: int, limit: int = 20) -> list[tuple[str, int]]:
    """The most used term or phrase ids (``kind`` = term | phrase), each used ≥ ``threshold`` times."""
    counts: dict[str, int] = defaultdict(int)
    for _site, _week, row_kind, key, count in rows:
        if row_kind == kind:
            counts[key] += count
    ranked = sorted(((k, v) for k, v in counts.items() if v >= threshold), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:limit]


@dataclass(frozen=True)
class Total:
    """One row of the admin totals: ``count`` is None when suppressed (under the threshold)."""

    site: str | None
    week: str | None
    language: str | None
    kind: str
    key: str
    count: int | None


def totals(
    turns: Sequence[TurnRowT],
    items: Sequence[ItemRowT],
    threshold: int,
    *,
    by_site: bool = False,
    by_week: bool = False,
    by_language: bool = False,
) -> list[Total]:
    """Summed counters per (site?, week?) group, suppressed like the console.

    Turns are split by language only with ``by_language`` (rare languages merged into ``other``);
    ids and buckets under the threshold are merged into the key ``other`` of their kind; a cell
    (or ``other``) still under the threshold has no count.
    """
    groups: dict[tuple[str | None, str | None, str, bool], dict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for site, week, language, n in turns:
        group = (site if by_site else None, iso_week(week) if by_week else None, "turn", by_language)
        groups[group][language if by_language else ""] += n
    for site, week, kind, key, n in items:
        group = (site if by_site else None, iso_week(week) if by_week else None, kind, False)
        groups[group][key] += n
    out: list[Total] = []
    for (site, week, kind, split_language), counts in groups.items():
        if kind in KEYLESS_KINDS and not split_language:
            n = sum(counts.values())
            out.append(Total(site, week, None, kind, "", n if n >= threshold else None))
            continue
        for name, shown in suppress(dict(counts), threshold).items():
            if split_language:
                out.append(Total(site, week, name, kind, "", shown))
            else:
                out.append(Total(site, week, None, kind, name, shown))
    return sorted(out, key=lambda t: (t.site or "", t.week or "", t.kind, t.language or "", t.key))


def cells_csv(cells: Iterable[Cell]) -> str:
    """CSV export of suppressed cells (``site,week,language,turns``; suppressed as ``<5``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["site", "week", "language", "turns"])
    for cell in cells:
        # Site names come from IT; neutralise anything a spreadsheet would run as a formula.
        site = "'" + cell.site if cell.site.startswith(("=", "+", "-", "@", "\t", "\r")) else cell.site
        writer.writerow([site, cell.week, cell.language, cell.label])
    return out.getvalue()


def _language_order(item: tuple[str, int | None]) -> tuple[int, str]:
    return (1 if item[0] == OTHER else 0, item[0])
