"""Summaries of a latency run: per-config percentiles, accuracy, targets; rich tables, JSON, PNG chart."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.scoring import CER_LANGUAGES, corpus_error_rate, percentile

_LOGGER = logging.getLogger(__name__)

#: Stages in pipeline order: (record key, label).
STAGES: tuple[tuple[str, str], ...] = (
    ("vad_ms", "VAD"),
    ("asr_encoder_ms", "ASR encoder"),
    ("asr_langid_ms", "ASR lang-ID"),
    ("asr_decoder_ms", "ASR decoder"),
    ("mt_ms", "MT"),
    ("tts_first_ms", "TTS first chunk"),
    ("tts_ms", "TTS total"),
)
_TIMED = (
    "e2e_ms",
    "first_text_ms",
    "asr_ms",
    "asr_rtf",
    "total_ms",
    "cpu_ms",
    "tts_wait_ms",
    "release_wait_ms",
    "first_partial_ms",
    *(k for k, _ in STAGES),
)
#: Stacked in the chart: the stages on the path to the first output.
_CHART_STAGES: tuple[tuple[str, str], ...] = (
    ("release_wait_ms", "wait for a partial at release"),
    ("vad_ms", "VAD"),
    ("asr_encoder_ms", "ASR encoder"),
    ("asr_langid_ms", "ASR lang-ID"),
    ("asr_decoder_ms", "ASR decoder"),
    ("mt_ms", "MT"),
    ("tts_wait_ms", "TTS until first audio"),
)

#: Targets on this 2-core machine (ms, ratio, points, MB).
TARGETS = {
    "direct_p50_ms": 600.0,
    "pivot_p50_ms": 800.0,
    "m2m_p50_ms": 1000.0,
    "ratio_tuned_baseline": 0.35,
    "ja_cer_margin_points": 1.0,
    "peak_rss_mb": 900.0,
    "peak_rss_quickmt_mb": 700.0,
    "handsfree_false_cutoffs": 0.0,
    "handsfree_delay_p50_ms": 700.0,
}


def _values(records: Sequence[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in records if r.get(key) is not None]


def _stats(records: Sequence[dict[str, Any]], key: str) -> dict[str, float | None]:
    values = _values(records, key)
    digits = 3 if key.endswith("rtf") else 1
    return {
        "p50": _r(percentile(values, 50), digits),
        "p90": _r(percentile(values, 90), digits),
        "n": len(values),
    }


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def is_direct(record: dict[str, Any]) -> bool:
    """True for the ja⇄en turns (one pack: direct pair); the others pivot through English on quickmt."""
    return "en" in (record["source"], record["target"])


def summarize(
    records: Sequence[dict[str, Any]], config_names: Sequence[str], mixed_clips: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Per-config percentiles, accuracy (first repeat only; code-switched clips apart) and counts."""
    summary: dict[str, Any] = {}
    for name in config_names:
        rows = [r for r in records if r["config"] == name and r.get("e2e_ms") is not None]
        first = [r for r in rows if r.get("repeat", 0) == 0]
        entry: dict[str, Any] = {"turns": len(rows), "errors": sum(1 for r in records if r["config"] == name)}
        entry["errors"] -= len(rows)
        entry["stages"] = {key: _stats(rows, key) for key in _TIMED}
        entry["e2e_speech_out"] = _stats([r for r in rows if r.get("output") == "audio"], "e2e_ms")
        entry["e2e_text_out"] = _stats([r for r in rows if r.get("output") != "audio"], "e2e_ms")
        entry["e2e_direct"] = _stats([r for r in rows if is_direct(r)], "e2e_ms")
        entry["e2e_pivot_or_other"] = _stats([r for r in rows if not is_direct(r)], "e2e_ms")
        entry["guard_fired"] = sum(1 for r in first if r.get("guard_fired"))
        entry["fallbacks"] = sum(1 for r in first if r.get("fallback"))
        entry["language_wrong"] = sum(1 for r in first if not r.get("language_ok", True))
        entry["term_fallbacks_twin"] = sum(int(r.get("terms_fallback") or 0) for r in first)
        accuracy: dict[str, Any] = {}
        for language in sorted({r["language"] for r in first}):
            for mixed in (False, True):
                pairs = [
                    (r["reference"], r.get("hypothesis", ""))
                    for r in first
                    if r["language"] == language
                    and r.get("reference")
                    and not r.get("synthetic")
                    and (r["clip"] in mixed_clips) is mixed
                ]
                rate = corpus_error_rate(pairs, language)
                if rate is not None:
                    metric = "cer" if language in CER_LANGUAGES else "wer"
                    key = f"{language}+mixed" if mixed else language
                    accuracy[key] = {metric: round(100 * rate, 1), "clips": len(pairs)}
        entry["accuracy_pct"] = accuracy
        entry["streaming"] = _streaming(rows)
        summary[name] = entry
    base = summary.get("baseline", {}).get("stages", {}).get("e2e_ms", {}).get("p50")
    for entry in summary.values():
        p50 = entry["stages"]["e2e_ms"]["p50"]
        entry["ratio_to_baseline"] = round(p50 / base, 3) if base and p50 is not None else None
    return summary


def _streaming(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Recognition while speaking: how finals were made, the wait at release, the first tentative text."""
    streamed = [r for r in rows if r.get("stream_mode") is not None]
    if not streamed:
        return None
    modes: dict[str, int] = {}
    at_release: dict[str, int] = {}
    for row in streamed:
        modes[row["stream_mode"]] = modes.get(row["stream_mode"], 0) + 1
        state = row.get("partial_at_release") or "idle"
        at_release[state] = at_release.get(state, 0) + 1
    return {
        "final_modes": modes,
        "partial_at_release": at_release,
        "release_wait_ms": _stats(streamed, "release_wait_ms"),
        "first_partial_ms": _stats(streamed, "first_partial_ms"),
        "partials_p50": _r(percentile(_values(streamed, "partials"), 50)),
        "mt_speculative_reused": sum(1 for r in streamed if r.get("mt_speculative_reused")),
        "turns": len(streamed),
    }


def check_targets(
    summary: dict[str, Any], memory: dict[str, Any] | None, handsfree: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not measured in this run)."""
    rows: list[dict[str, Any]] = []

    def add(
        name: str, value: float | None, target: float, lower_is_better: bool = True, note: str = ""
    ) -> None:
        met = None if value is None else (value <= target if lower_is_better else value >= target)
        rows.append({"target": name, "value": value, "limit": target, "met": met, "note": note})

    tuned = summary.get("tuned")
    m2m = summary.get("tuned-m2m")
    baseline = summary.get("baseline")
    add(
        "tuned p50, direct pair ja⇄en (shallow decoder), ms",
        tuned["e2e_direct"]["p50"] if tuned else None,
        TARGETS["direct_p50_ms"],
    )
    add(
        "tuned p50, pivot via en (xx→ja), ms",
        tuned["e2e_pivot_or_other"]["p50"] if tuned else None,
        TARGETS["pivot_p50_ms"],
    )
    add(
        "tuned-m2m p50, M2M-100 418M, ms",
        m2m["stages"]["e2e_ms"]["p50"] if m2m else None,
        TARGETS["m2m_p50_ms"],
    )
    add(
        "tuned / baseline p50", tuned["ratio_to_baseline"] if tuned else None, TARGETS["ratio_tuned_baseline"]
    )
    if tuned and baseline:
        t_cer = tuned["accuracy_pct"].get("ja", {}).get("cer")
        b_cer = baseline["accuracy_pct"].get("ja", {}).get("cer")
        delta = None if t_cer is None or b_cer is None else round(t_cer - b_cer, 1)
        add(
            "Japanese CER tuned − baseline, points",
            delta,
            TARGETS["ja_cer_margin_points"],
            note="Japanese-only clips (code-switched ja+en reported apart)",
        )
    peak = (memory or {}).get("peak_rss_mb")
    add(
        "peak RSS, ASR + M2M-418M-size MT + one voice, MB",
        peak,
        TARGETS["peak_rss_mb"],
        note="fresh process (memory probe)",
    )
    add(
        "peak RSS, ASR + quickmt-size MT + one voice, MB",
        ((memory or {}).get("quickmt") or {}).get("peak_rss_mb"),
        TARGETS["peak_rss_quickmt_mb"],
        note="fresh process (memory probe)",
    )
    default = (handsfree or {}).get("settings", {}).get((handsfree or {}).get("default", ""))
    add(
        "hands-free false cut-offs (default end-pointing)",
        default["false_cutoffs"] if default else None,
        TARGETS["handsfree_false_cutoffs"],
    )
    add(
        "hands-free end-of-speech delay p50, ms",
        default["delay_p50_ms"] if default else None,
        TARGETS["handsfree_delay_p50_ms"],
    )
    return rows


#: The stage each lever acts on (record key).
LEVER_STAGES = {
    "+asr-window": "asr_encoder_ms",
    "+asr-greedy": "asr_decoder_ms",
    "+asr-pair": "asr_langid_ms",
    "+mt-shallow": "mt_ms",
    "+mt-greedy": "mt_ms",
    "+mt-vmap": "mt_ms",
    "+tts-stream": "tts_wait_ms",
}


def paired_saving(
    records: Sequence[dict[str, Any]], name: str, key: str, base: str = "baseline"
) -> float | None:
    """Median over clips of ``base − name`` for ``key`` (same clip, same pass: load drift cancels)."""
    by_turn = {(r["clip"], r.get("repeat", 0), r["config"]): r for r in records}
    diffs = []
    for (clip, repeat, config), row in by_turn.items():
        if config != name:
            continue
        ref = by_turn.get((clip, repeat, base))
        if ref is not None and ref.get(key) is not None and row.get(key) is not None:
            diffs.append(float(ref[key]) - float(row[key]))
    return _r(percentile(diffs, 50))


def lever_rows(summary: dict[str, Any], records: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Each lever alone on top of the baseline: p50, the saving against the baseline, and the paired
    (per-clip) median saving end to end and on the stage the lever acts on."""
    base = summary.get("baseline", {}).get("stages", {}).get("e2e_ms", {}).get("p50")
    rows = []
    for name, entry in summary.items():
        if name == "baseline":
            continue
        p50 = entry["stages"]["e2e_ms"]["p50"]
        stage = LEVER_STAGES.get(name)
        rows.append(
            {
                "lever": name,
                "p50_ms": p50,
                "saved_ms": None if base is None or p50 is None else round(base - p50, 1),
                "ratio": entry.get("ratio_to_baseline"),
                "paired_saved_ms": paired_saving(records, name, "e2e_ms") if records else None,
                "stage": stage,
                "stage_paired_saved_ms": paired_saving(records, name, stage) if records and stage else None,
            }
        )
    return rows


# --------------------------------------------------------------------------------------------------
# Output


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
            _fmt(stages["e2e_ms"]["p50"]),
            _fmt(stages["e2e_ms"]["p90"]),
            _fmt(entry.get("ratio_to_baseline"), 2),
            *(_fmt(stages[key]["p50"]) for key, _ in STAGES),
            _fmt(stages["asr_rtf"]["p50"], 3),
            f"{entry['guard_fired']}/{entry['fallbacks']}/{entry['language_wrong']}",
            f"{_fmt(acc.get('ja', {}).get('cer'))} / {_fmt(acc.get('en', {}).get('wer'))}",
        )
    console.print(table)
    targets = Table(title="Targets (this machine)")
    for col in ("target", "measured", "limit", "met"):
        targets.add_column(col)
    for row in results.get("targets", []):
        met = {True: "yes", False: "NO", None: "n/a"}[row["met"]]
        targets.add_row(row["target"], _fmt(row["value"], 2), _fmt(row["limit"], 2), met)
    console.print(targets)
    if results.get("levers"):
        levers = Table(
            title="Against the baseline (levers: one change each); paired = median per-clip saving"
        )
        for col in ("config", "p50 ms", "ratio", "paired e2e saving ms", "stage", "paired stage saving ms"):
            levers.add_column(col)
        for row in results["levers"]:
            levers.add_row(
                row["lever"],
                _fmt(row["p50_ms"]),
                _fmt(row["ratio"], 2),
                _fmt(row.get("paired_saved_ms")),
                row.get("stage") or "",
                _fmt(row.get("stage_paired_saved_ms")),
            )
        console.print(levers)


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


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
                percentile(_values([r for r in rows if r["config"] == n], key), 50) or 0.0 for n in names
            ]
            ax.barh(names, widths, left=lefts, color=color, label=label)
            lefts = [a + b for a, b in zip(lefts, widths, strict=True)]
        e2e = [percentile(_values([r for r in rows if r["config"] == n], "e2e_ms"), 50) or 0.0 for n in names]
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


def markdown_summary(results: dict[str, Any]) -> str:
    """The run as Markdown tables (configs, levers, targets, MT shapes, memory, end-pointing)."""
    env = results["environment"]
    lines = [
        f"Run {env['date_utc']}, {env['cpu_count']} cores, {env['threads']} threads per engine, "
        f"load average {env.get('load_average_start')} → {env.get('load_average_end')}; "
        f"{len(results['clips'])} clips from {env.get('eval_set', 'the evaluation set')}; "
        f"{env['mt_note']} ({', '.join(env['mt'].values())}).",
        "",
        "| config | e2e p50 ms | e2e p90 ms | /baseline | VAD | ASR enc | ASR lang-ID | ASR dec | MT | "
        "TTS 1st | TTS total | ASR RTF | ja CER % | en WER % | guard / fallback / wrong lang |",
        "|---|" + "---:|" * 14,
    ]
    for name, entry in results["summary"].items():
        st, acc = entry["stages"], entry["accuracy_pct"]
        lines.append(
            f"| `{name}` | {_fmt(st['e2e_ms']['p50'])} | {_fmt(st['e2e_ms']['p90'])} | "
            f"{_fmt(entry.get('ratio_to_baseline'), 2)} | "
            + " | ".join(_fmt(st[k]["p50"]) for k, _ in STAGES)
            + f" | {_fmt(st['asr_rtf']['p50'], 3)} | {_fmt(acc.get('ja', {}).get('cer'), 1)} | "
            f"{_fmt(acc.get('en', {}).get('wer'), 1)} | "
            f"{entry['guard_fired']} / {entry['fallbacks']} / {entry['language_wrong']} |"
        )
    if results.get("levers"):
        lines += [
            "",
            "| config vs baseline | p50 ms | /baseline | paired saving, e2e ms | stage "
            "| paired saving, stage ms |",
            "|---|---:|---:|---:|---|---:|",
        ]
        for row in results["levers"]:
            cells = [
                f"`{row['lever']}`",
                _fmt(row["p50_ms"]),
                _fmt(row["ratio"], 2),
                _fmt(row.get("paired_saved_ms")),
                row.get("stage") or "",
                _fmt(row.get("stage_paired_saved_ms")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for row in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "n/a"}[row["met"]]
        lines.append(f"| {row['target']} | {_fmt(row['value'], 1)} | {_fmt(row['limit'], 2)} | {met} |")
    if results.get("mt_shapes"):
        lines += [
            "",
            "| MT twin, 20→20 tokens | greedy ms | beam 2 ms | beam 4 ms | greedy+vmap ms | peak RSS MB |",
        ]
        lines.append("|---|---:|---:|---:|---:|---:|")
        for name, row in results["mt_shapes"].items():
            keys = ("greedy_ms", "beam2_ms", "beam4_ms", "greedy_vmap_ms", "peak_rss_mb")
            lines.append(f"| {name} | " + " | ".join(_fmt(row.get(k)) for k in keys) + " |")
    memory = results.get("memory_probe") or {}
    if memory.get("peak_rss_mb"):
        lines += [
            "",
            f"Peak RSS, fresh process with ASR + M2M-418M-size MT + voice: {memory['peak_rss_mb']} MB "
            f"(steps: {memory.get('rss_steps_mb')}).",
        ]
    lines += _streaming_lines(results) + _handsfree_lines(results) + _browser_lines(results)
    cut = results.get("endpointing") or {}
    if cut.get("cut"):
        parts = ", ".join(f"{ms} ms: {n}/{cut['clips']} clips cut" for ms, n in cut["cut"].items())
        lines += ["", f"Hands-free end-pointing, false cut-offs (streaming VAD): {parts}."]
    return "\n".join(lines) + "\n"


def _streaming_lines(results: dict[str, Any]) -> list[str]:
    rows = [(n, e["streaming"]) for n, e in results["summary"].items() if e.get("streaming")]
    if not rows:
        return []
    lines = [
        "",
        "| recognition while speaking | final: reused / prefix / full | wait at release p50 / p90 ms "
        "| partial at release: stopped / carried on / idle "
        "| first tentative text p50 ms | partials p50 | speculative MT reused |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for name, st in rows:
        modes = st["final_modes"]
        states = st.get("partial_at_release") or {}
        lines.append(
            f"| `{name}` | {modes.get('reused', 0)} / {modes.get('prefix', 0)} / {modes.get('full', 0)} | "
            f"{_fmt(st['release_wait_ms']['p50'])} / {_fmt(st['release_wait_ms']['p90'])} | "
            f"{states.get('stopped', 0)} / {states.get('carried-on', 0)} / {states.get('idle', 0)} | "
            f"{_fmt(st['first_partial_ms']['p50'])} | {_fmt(st['partials_p50'])} | "
            f"{st['mt_speculative_reused']}/{st['turns']} |"
        )
    return lines


def _browser_lines(results: dict[str, Any]) -> list[str]:
    browser = results.get("browser") or {}
    if not browser:
        return []
    if not browser.get("measured"):
        return ["", f"Browser path not measured: {browser.get('reason')}."]
    lines = [
        "",
        f"| browser ({browser['route']}) | release → first audio p50 ms | first tentative text p50 ms |",
        "|---|---:|---:|",
    ]
    for name, row in browser["configs"].items():
        lines.append(
            f"| `{name}` | {_fmt(row['release_to_first_audio_p50_ms'])} | "
            f"{_fmt(row['first_tentative_text_p50_ms'])} |"
        )
    return lines


def _handsfree_lines(results: dict[str, Any]) -> list[str]:
    settings = (results.get("handsfree") or {}).get("settings") or {}
    if not settings:
        return []
    lines = [
        "",
        "| hands-free end-pointing | false cut-offs | end-of-speech delay p50 / p90 ms "
        "| tentative decode p50 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, row in settings.items():
        lines.append(
            f"| `{name}` | {row['false_cutoffs']}/{row['clips']} | "
            f"{_fmt(row['delay_p50_ms'])} / {_fmt(row['delay_p90_ms'])} | "
            f"{_fmt(row.get('tentative_decode_p50_ms'))} |"
        )
    return lines


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
        results["summary"], results.get("memory_probe"), results.get("handsfree")
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
