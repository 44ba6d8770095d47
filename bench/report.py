"""Output of a latency run: rich tables, ``results.json``, the PNG chart, and re-rendering a finished run.

The figures come from ``bench.summary`` (percentiles, levers) and ``bench.targets``; ``summary.md`` is
written by ``bench.markdown``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from bench.markdown import cell, lever_cells, markdown_summary
from bench.scoring import percentile
from bench.summary import STAGES, lever_rows, summarize, values_of
from bench.targets import check_targets

_LOGGER = logging.getLogger(__name__)

#: Stacked in the chart: the stages on the path to the first output.
_CHART_STAGES: tuple[tuple[str, str], ...] = (
    ("release_wait_ms", "wait for a partial at release"),
    *(stage for stage in STAGES if stage[0] not in ("tts_first_ms", "tts_ms")),
    ("tts_wait_ms", "TTS until first audio"),
)


def print_tables(results: dict[str, Any], console: Any | None = None) -> None:
    """Rich tables: configs × stages (p50), targets, levers."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    summary = results["summary"]
    table = Table(title=f"End of speech → first output, p50 ms ({results['environment']['mt_note']})")
    table.add_column("config")
    for label in ("e2e p50", "e2e p90", "ratio"):
        table.add_column(label, justify="right")
    for _key, label in STAGES:
        table.add_column(label, justify="right")
    table.add_column("RTF", justify="right")
    table.add_column("guard/fallback/lang✗", justify="right")
    table.add_column("ja CER / en WER %", justify="right")
    for name, entry in summary.items():
        stages = entry["stages"]
        acc = entry["accuracy_pct"]
        table.add_row(
            name,
            cell(stages["e2e_ms"]["p50"]),
            cell(stages["e2e_ms"]["p90"]),
            cell(entry.get("ratio_to_baseline"), 2),
            *(cell(stages[key]["p50"]) for key, _ in STAGES),
            cell(stages["asr_rtf"]["p50"], 3),
            f"{entry['guard_fired']}/{entry['fallbacks']}/{entry['language_wrong']}",
            f"{cell(acc.get('ja', {}).get('cer'))} / {cell(acc.get('en', {}).get('wer'))}",
        )
    console.print(table)
    targets = Table(title="Targets (this machine)")
    for col in ("target", "measured", "limit", "met"):
        targets.add_column(col)
    for row in results.get("targets", []):
        met = {True: "yes", False: "NO", None: "n/a"}[row["met"]]
        targets.add_row(row["target"], cell(row["value"], 2), cell(row["limit"], 2), met)
    console.print(targets)
    if results.get("levers"):
        levers = Table(
            title="Against the baseline (levers: one change each); paired = median per-clip saving"
        )
        columns = (
            "config",
            "p50 ms",
            "ratio",
            "paired e2e saving ms",
            "stage",
            "paired stage saving ms",
            "ja CER %",
            "ΔCER pts",
        )
        for col in columns:
            levers.add_column(col)
        for row in results["levers"]:
            levers.add_row(row["lever"], *lever_cells(row))
        console.print(levers)


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write the results (UTF-8, indented)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = json.loads(json.dumps(results, default=str))
    path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def draw_chart(results: dict[str, Any], path: Path) -> Path:
    """Stacked p50 stages per config, speech-out (ja→en) and text-out (xx→ja) turns in two panels, with
    the end-to-end p50 as a marker (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["summary"])
    turns = [t for t in results["turns"] if t.get("e2e_ms") is not None]
    panels = [
        ("speech out (ja → en, first audio)", [t for t in turns if t.get("output") == "audio"]),
        ("text out (xx → ja, first text)", [t for t in turns if t.get("output") != "audio"]),
    ]
    panels = [(title, rows) for title, rows in panels if rows]
    colors = ["#bcbd22", "#9e9e9e", "#1f77b4", "#aec7e8", "#ff7f0e", "#2ca02c", "#d62728"]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(11.5, (0.42 * len(names) + 1.0) * len(panels) + 0.8), squeeze=False
    )
    for ax, (title, rows) in zip(axes[:, 0], panels, strict=True):
        lefts = [0.0] * len(names)
        for (key, label), color in zip(_CHART_STAGES, colors, strict=True):
            widths = [
                percentile(values_of([r for r in rows if r["config"] == n], key), 50) or 0.0 for n in names
            ]
            ax.barh(names, widths, left=lefts, color=color, label=label)
            lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
        e2e = [
            percentile(values_of([r for r in rows if r["config"] == n], "e2e_ms"), 50) or 0.0 for n in names
        ]
        ax.scatter(e2e, names, marker="|", s=250, color="black", zorder=3, label="end-to-end p50")
        ax.invert_yaxis()
        ax.set_title(f"{title}, {len({r['clip'] for r in rows})} clips", fontsize=10)
        ax.set_xlabel("ms (p50 of each stage, stacked)")
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.suptitle(f"End of speech → first output ({results['environment']['mt_note']})", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rerender(json_path: Path, *, chart: bool = True) -> dict[str, Any]:
    """Recompute summary, levers and targets of a ``results.json`` from its turns; rewrite the JSON,
    ``summary.md`` and (optionally) ``chart.png`` beside it."""
    results = json.loads(Path(json_path).read_text(encoding="utf-8"))
    names = list(results.get("configs") or results["summary"])
    mixed = {c["name"] for c in results.get("clips", []) if c.get("mixed")}
    if not any("mixed" in c for c in results.get("clips", [])):
        from bench.clips import load_manifest, resolve_eval_dir

        mixed = {c.name for c in load_manifest(resolve_eval_dir()) if c.mixed}
    results["summary"] = summarize(results["turns"], names, frozenset(mixed))
    results["levers"] = lever_rows(results["summary"], results["turns"])
    results["targets"] = check_targets(
        results["summary"], results.get("memory_probe"), results.get("handsfree"), results.get("browser")
    )
    out_dir = Path(json_path).parent
    files = {**dict(results.get("files") or {}), "json": str(json_path)}
    if chart:
        files["chart"] = str(draw_chart(results, out_dir / "chart.png"))
    summary_path = out_dir / "summary.md"
    summary_path.write_text(markdown_summary(results), encoding="utf-8")
    files["summary"] = str(summary_path)
    results["files"] = files
    write_json(results, Path(json_path))
    return results
