"""The latency run as Markdown (``summary.md``): configs, levers, targets, MT shapes, memory, end-pointing."""

from __future__ import annotations

from typing import Any

from bench.summary import STAGES


def cell(value: Any, digits: int = 0) -> str:
    """A table cell: ``–`` for not measured, floats with ``digits`` decimals."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def lever_cells(row: dict[str, Any]) -> list[str]:
    """A lever row after its name: p50, ratio, paired e2e saving, stage, paired stage saving, ja CER and
    its change against the baseline (points)."""
    delta = row.get("ja_cer_delta_points")
    return [
        cell(row["p50_ms"]),
        cell(row["ratio"], 2),
        cell(row.get("paired_saved_ms")),
        row.get("stage") or "",
        cell(row.get("stage_paired_saved_ms")),
        cell(row.get("ja_cer"), 1),
        "–" if delta is None else f"{delta:+.1f}",
    ]


def markdown_summary(results: dict[str, Any]) -> str:
    """The run as Markdown tables (configs, levers, targets, MT shapes, memory, end-pointing)."""
    lines = _run_line(results) + _config_lines(results) + _lever_lines(results) + _target_lines(results)
    lines += _shape_lines(results) + _memory_lines(results)
    lines += _streaming_lines(results) + handsfree_lines(results) + _browser_lines(results)
    lines += _endpointing_lines(results)
    return "\n".join(lines) + "\n"


def _run_line(results: dict[str, Any]) -> list[str]:
    env = results["environment"]
    return [
        f"Run {env['date_utc']}, {env['cpu_count']} cores, {env['threads']} threads per engine, "
        f"load average {env.get('load_average_start')} → {env.get('load_average_end')}; "
        f"{len(results['clips'])} clips from {env.get('eval_set', 'the evaluation set')}; "
        f"{env['mt_note']} ({', '.join(env['mt'].values())}).",
        *([f"Run took {_run_time(env['run_s'])}."] if env.get("run_s") else []),
    ]


def _run_time(run_s: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run_s.items() if name != "total")
    return f"{run_s['total'] / 60:.1f} min ({parts})"


def _config_lines(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| config | e2e p50 ms | e2e p90 ms | /baseline | VAD | ASR enc | ASR lang-ID | ASR dec | MT | "
        "TTS 1st | TTS total | ASR RTF | ja CER % | en WER % | guard / fallback / wrong lang |",
        "|---|" + "---:|" * 14,
    ]
    for name, entry in results["summary"].items():
        st, acc = entry["stages"], entry["accuracy_pct"]
        lines.append(
            f"| `{name}` | {cell(st['e2e_ms']['p50'])} | {cell(st['e2e_ms']['p90'])} | "
            f"{cell(entry.get('ratio_to_baseline'), 2)} | "
            + " | ".join(cell(st[k]["p50"]) for k, _ in STAGES)
            + f" | {cell(st['asr_rtf']['p50'], 3)} | {cell(acc.get('ja', {}).get('cer'), 1)} | "
            f"{cell(acc.get('en', {}).get('wer'), 1)} | "
            f"{entry['guard_fired']} / {entry['fallbacks']} / {entry['language_wrong']} |"
        )
    return lines


def _lever_lines(results: dict[str, Any]) -> list[str]:
    if not results.get("levers"):
        return []
    lines = [
        "",
        "| lever / config vs baseline | p50 ms | /baseline | paired saving, e2e ms | stage "
        "| paired saving, stage ms | ja CER % | ja CER vs baseline, points |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in results["levers"]:
        lines.append("| " + " | ".join([f"`{row['lever']}`", *lever_cells(row)]) + " |")
    return lines


def _target_lines(results: dict[str, Any]) -> list[str]:
    lines = ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for row in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "n/a"}[row["met"]]
        lines.append(f"| {row['target']} | {cell(row['value'], 1)} | {cell(row['limit'], 2)} | {met} |")
    return lines


def _shape_lines(results: dict[str, Any]) -> list[str]:
    if not results.get("mt_shapes"):
        return []
    lines = [
        "",
        "| MT twin, 20→20 tokens | greedy ms | beam 2 ms | beam 4 ms | greedy+vmap ms | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    keys = ("greedy_ms", "beam2_ms", "beam4_ms", "greedy_vmap_ms", "peak_rss_mb")
    for name, row in results["mt_shapes"].items():
        lines.append(f"| {name} | " + " | ".join(cell(row.get(k)) for k in keys) + " |")
    return lines


def _memory_lines(results: dict[str, Any]) -> list[str]:
    memory = results.get("memory_probe") or {}
    if not memory.get("peak_rss_mb"):
        return []
    return [
        "",
        f"Peak RSS, fresh process with ASR + M2M-418M-size MT + voice: {memory['peak_rss_mb']} MB "
        f"(steps: {memory.get('rss_steps_mb')}).",
    ]


def _endpointing_lines(results: dict[str, Any]) -> list[str]:
    cut = results.get("endpointing") or {}
    if not cut.get("cut"):
        return []
    parts = ", ".join(f"{ms} ms: {n}/{cut['clips']} clips cut" for ms, n in cut["cut"].items())
    return ["", f"Hands-free end-pointing, false cut-offs (streaming VAD): {parts}."]


def _streaming_lines(results: dict[str, Any]) -> list[str]:
    rows = [(n, e["streaming"]) for n, e in results["summary"].items() if e.get("streaming")]
    if not rows:
        return []
    lines = [
        "",
        "| recognition while speaking | final: reused / prefix / full | wait at release p50 / p90 ms "
        "| partial at release: stopped / carried on / waited / idle "
        "| first tentative text p50 ms | partials p50 | speculative MT reused |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for name, st in rows:
        modes = st["final_modes"]
        states = st.get("partial_at_release") or {}
        lines.append(
            f"| `{name}` | {modes.get('reused', 0)} / {modes.get('prefix', 0)} / {modes.get('full', 0)} | "
            f"{cell(st['release_wait_ms']['p50'])} / {cell(st['release_wait_ms']['p90'])} | "
            f"{states.get('stopped', 0)} / {states.get('carried-on', 0)} / {states.get('waited', 0)} / "
            f"{states.get('idle', 0)} | "
            f"{cell(st['first_partial_ms']['p50'])} | {cell(st['partials_p50'])} | "
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
        f"| browser ({browser['route']}) | MT | release → first audio p50 ms "
        "| first tentative text after speech starts, p50 ms | turns | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, row in browser["configs"].items():
        lines.append(
            f"| `{name}` | {row.get('mt') or '–'} | {cell(row['release_to_first_audio_p50_ms'])} | "
            f"{cell(row['first_tentative_text_p50_ms'])} | {cell(row.get('turns_measured'))} | "
            f"{cell(row.get('errors'))} |"
        )
    return lines


def handsfree_lines(results: dict[str, Any]) -> list[str]:
    settings = (results.get("handsfree") or {}).get("settings") or {}
    if not settings:
        return []
    lines = [
        "",
        "| hands-free end-pointing | false cut-offs | end-of-speech delay p50 / p90 ms "
        "| ended on a finished sentence | final = last partial "
        "| check at silence: wait / decode (CPU) p50 ms | tentative decode p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in settings.items():
        aware = row.get("transcript_aware")
        lines.append(
            f"| `{name}` | {row['false_cutoffs']}/{row['clips']} | "
            f"{cell(row['delay_p50_ms'])} / {cell(row['delay_p90_ms'])} | "
            f"{cell(row.get('ended_on_finished_sentence')) if aware else '–'} | "
            f"{cell(row.get('final_reuses_partial')) if aware else '–'} | "
            f"{cell(row.get('check_wait_p50_ms'))} / {cell(row.get('check_decode_p50_ms'))} "
            f"({cell(row.get('check_cpu_p50_ms'))}) | "
            f"{cell(row.get('tentative_decode_p50_ms'))} |"
        )
    configs = (results.get("handsfree") or {}).get("configs") or {}
    if configs:
        lines += [
            "",
            "| hands-free per configuration | end-pointing | false cut-offs "
            "| end-of-speech delay p50 / p90 ms |",
            "|---|---|---:|---:|",
        ]
        for name, row in configs.items():
            lines.append(
                f"| `{name}` | `{row['setting']}` | {cell(row['false_cutoffs'])}/{cell(row['clips'])} | "
                f"{cell(row['delay_p50_ms'])} / {cell(row['delay_p90_ms'])} |"
            )
    return lines
