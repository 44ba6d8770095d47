"""One benchmark run: clips → engines → configurations → summary, JSON and chart.

results = run_benchmark(RunOptions(quick=True, out_dir=Path("test-artifacts/bench")))
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import Clip, ClipSelection, load_manifest, quick_clips, resolve_eval_dir, select_clips
from bench.configs import BASELINE, TUNED, TUNED_M2M, BenchConfig, config_dict, config_names
from bench.handsfree import (
    DEFAULT_SETTING,
    SETTINGS,
    config_rows,
    endpointing_cutoffs,
    endpointing_table,
)
from bench.latency import load_engines, resolve_store, run_configs, stand_in_texts
from bench.markdown import markdown_summary
from bench.processes import peak_rss_mb, run_isolated
from bench.report import draw_chart, write_json
from bench.summary import lever_rows, summarize
from bench.targets import check_targets
from bench.twin_packs import FULL, TINY_SCALE, TwinRouter, TwinStores, ntrex_lines, prepare_twin_stores
from bench.twin_timing import mt_shape_table

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIGS = "all"
QUICK_CONFIGS = "baseline,tuned"


@dataclass(frozen=True)
class RunOptions:
    """What to run.

    Attributes:
        quick: 2 short clips, tiny twins, baseline and tuned only, no memory probe or MT shape table.
        out_dir: Where results.json and chart.png go (None = ``bench-results/<UTC timestamp>``).
        configs: Comma list of configuration names (None = all, or baseline,tuned when quick).
        eval_dir: Evaluation data (None = ``$MADOGUCHI_EVAL_DIR``, else ``tests/data`` for the quick
            run, else ``<repo>/../shared/eval``).
        store_dir: Pack store holding the ASR pack and voices (None = device store, else test store).
        asr_pack: ASR pack id.
        repeats: Passes over the clips (count).
        threads: CPU threads of every engine (count).
        max_per_language: Clips per language in a full run (count).
        clip_names: Only these clips (manifest file names).
        chart: Draw the PNG chart.
        memory_probe: Measure peak RSS of ASR + M2M-size MT + voice in a fresh process.
        mt_shapes: Time every MT twin shape 20→20 tokens in fresh processes.
        browser: Time the counter page in chromium (release → first audio, first tentative text) per
            configuration (``bench.browser``; not in quick runs).
        handsfree: Analyse hands-free end-pointing on the clips (false cut-offs, end-of-speech delay).
        handsfree_per_language: Clips per language of the hands-free analysis in a full run (None: the
            run's own clips); end-pointing is cheaper per clip than the turns of every configuration.
    """

    quick: bool = False
    out_dir: Path | None = None
    configs: str | None = None
    eval_dir: Path | None = None
    store_dir: Path | None = None
    asr_pack: str = "whisper-base"
    repeats: int = 1
    threads: int = 2
    max_per_language: int = 3
    clip_names: tuple[str, ...] = field(default_factory=tuple)
    chart: bool = True
    memory_probe: bool = True
    mt_shapes: bool = True
    browser: bool = True
    handsfree: bool = True
    handsfree_per_language: int | None = None


def default_out_dir() -> Path:
    """``bench-results/<UTC timestamp>``."""
    return Path("bench-results") / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def environment(threads: int) -> dict[str, Any]:
    """Machine, versions and load (other work on the machine skews timings)."""
    import ctranslate2
    import onnxruntime

    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "load_average_start": _load_average(),
        "python": platform.python_version(),
        "ctranslate2": ctranslate2.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


class _Laps:
    """Wall-clock seconds per part of the run (how long a full run takes, and where)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 1)
        self._last = now


def run_benchmark(options: RunOptions, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the latency benchmark; writes ``results.json`` (and ``chart.png``) in the output dir."""
    say = progress or (lambda _msg: None)
    laps = _Laps()
    configs: list[BenchConfig] = config_names(
        options.configs or (QUICK_CONFIGS if options.quick else DEFAULT_CONFIGS)
    )
    out_dir = options.out_dir or default_out_dir()
    env = environment(options.threads)
    eval_dir = resolve_eval_dir(options.eval_dir, quick=options.quick)
    loaded = _load_clips(_choose_clips(options, eval_dir))
    from_eval = bool(loaded) and loaded[0][0].path.is_relative_to(eval_dir)
    env["eval_set"] = str(eval_dir) if from_eval else "edge/samples (bundled sample)"
    say(f"{len(loaded)} clips from {env['eval_set']}")

    scale = TINY_SCALE if options.quick else FULL
    say(f"preparing {scale.name} MT twins (cached under ~/.cache/madoguchi/twins)")
    twins = prepare_twin_stores(scale, eval_dir / "text")
    store_dir = resolve_store(options.store_dir, options.asr_pack)
    say(f"loading engines from {store_dir}")
    engines = load_engines(store_dir, options.asr_pack, twins, threads=options.threads)
    rss_after_load = round(peak_rss_mb(), 1)

    stand_ins = stand_in_texts(engines, loaded)
    laps.lap("setup")
    records = run_configs(
        engines, configs, loaded, repeats=options.repeats, progress=say, stand_ins=stand_ins
    )
    laps.lap("turns")
    endpointing_clips = _handsfree_clips(options, eval_dir, loaded)
    sections = _handsfree_sections(options, endpointing_clips, engines, configs, say)
    laps.lap("handsfree")
    sections["browser"] = None
    if options.browser and not options.quick:
        from bench.browser import browser_rows

        say("browser path (chromium, fake microphone)")
        sections["browser"] = browser_rows(engines, configs, loaded, stand_ins)
    laps.lap("browser")
    sections.update(_fresh_process_sections(options, loaded, store_dir, twins, say))
    laps.lap("fresh_processes")
    env["run_s"] = {**laps.laps, "total": round(sum(laps.laps.values()), 1)}

    mixed = frozenset(c.name for c, _ in loaded if c.mixed)
    summary = summarize(records, [c.name for c in configs], mixed)
    _finish_environment(env, engines, options, scale.name, rss_after_load)
    results: dict[str, Any] = {
        "schema": 1,
        "quick": options.quick,
        "environment": env,
        "configs": {c.name: config_dict(c) for c in configs},
        "clips": [_clip_entry(c) for c, _ in loaded],
        "summary": summary,
        "levers": lever_rows(summary, records),
        **sections,
        "chrf": chrf_section(engines, eval_dir),
        "turns": records,
    }
    results["targets"] = check_targets(
        summary, sections["memory_probe"], sections["handsfree"], sections["browser"]
    )
    _write_outputs(results, out_dir, chart=options.chart)
    return results


def _choose_clips(options: RunOptions, eval_dir: Path) -> list[Clip]:
    """The quick clips (optionally only the named ones), or a per-language selection of the manifest."""
    if options.quick:
        clips = quick_clips(eval_dir)
        if options.clip_names:
            clips = [c for c in clips if c.name in options.clip_names] or clips
        return clips
    selection = ClipSelection(max_per_language=options.max_per_language, names=options.clip_names)
    return select_clips(load_manifest(eval_dir), selection) or quick_clips(eval_dir)


def _load_clips(clips: list[Clip]) -> list[tuple[Clip, np.ndarray]]:
    """(clip, 16 kHz samples) of every readable clip; an unreadable one is skipped with a warning."""
    loaded = []
    for clip in clips:
        try:
            loaded.append((clip, clip.load()))
        except Exception as exc:  # one unreadable clip must not stop the run
            _LOGGER.warning("skipping clip %s: %s", clip.name, exc)
    return loaded


def _handsfree_clips(
    options: RunOptions, eval_dir: Path, loaded: list[tuple[Clip, np.ndarray]]
) -> list[tuple[Clip, np.ndarray]]:
    """The clips of the hands-free analysis: the run's own, or ``handsfree_per_language`` per language."""
    if options.quick or options.handsfree_per_language is None:
        return loaded
    selection = ClipSelection(max_per_language=options.handsfree_per_language)
    return _load_clips(select_clips(load_manifest(eval_dir), selection)) or loaded


def _handsfree_sections(
    options: RunOptions,
    loaded: list[tuple[Clip, np.ndarray]],
    engines: Any,
    configs: list[BenchConfig],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """``endpointing`` (the VAD alone) and ``handsfree`` (every end-pointing setting) of the results."""
    if not options.handsfree:
        return {"endpointing": None, "handsfree": None}
    say("hands-free end-pointing analysis")
    endpointing = endpointing_cutoffs(loaded, (500,) if options.quick else (300, 500, 800))
    say("hands-free end-pointing per setting (silence alone vs end of thought)")
    settings = [s for s in SETTINGS if not options.quick or s.name in ("silence-500", DEFAULT_SETTING)]
    table = endpointing_table(loaded, engines.transcriber, settings)
    say("hands-free end-pointing per configuration")
    table["configs"] = config_rows(table, configs, loaded, engines.transcriber)
    table["clip_names"] = [clip.name for clip, _ in loaded]
    return {"endpointing": endpointing, "handsfree": table}


def _fresh_process_sections(
    options: RunOptions,
    loaded: list[tuple[Clip, np.ndarray]],
    store_dir: Path,
    twins: TwinStores,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """``memory_probe`` and ``mt_shapes`` of the results (full runs only), each in fresh processes."""
    memory = None
    if options.memory_probe and not options.quick:
        say("memory probe (fresh process)")
        probe_clip = next((c for c, _ in loaded if c.language == "ja"), loaded[0][0])
        probe = {
            "store_dir": str(store_dir),
            "asr_pack": options.asr_pack,
            "coverage_store": str(twins.coverage),
            "tokenizer": str(twins.tokenizer),
            "clip_path": str(probe_clip.path),
            "threads": options.threads,
        }
        memory = run_isolated("bench.memory_probe", "memory_probe", probe)
        shallow = {**probe, "coverage_store": str(twins.shallow), "shape": "shallow"}
        memory["quickmt"] = run_isolated("bench.memory_probe", "memory_probe", shallow)
    shapes = None
    if options.mt_shapes and not options.quick:
        say("MT shape table (fresh processes)")
        shapes = mt_shape_table(twins)
    return {"memory_probe": memory, "mt_shapes": shapes}


def _finish_environment(
    env: dict[str, Any], engines: Any, options: RunOptions, scale: str, rss_after_load: float
) -> None:
    """What the run measured with: load at the end, memory, engines and MT labels."""
    twin_used = any(isinstance(r, TwinRouter) for r in engines.routers.values())
    env["load_average_end"] = _load_average()
    env["peak_rss_mb_bench_process"] = round(peak_rss_mb(), 1)
    env["rss_mb_after_load"] = rss_after_load
    env["engine_load_s"] = {k: round(v, 2) for k, v in engines.load_s.items()}
    env["mt"] = engines.mt_labels
    env["voices"] = sorted(engines.voices)
    env["asr_pack"] = options.asr_pack
    env["twin_scale"] = scale
    env["mt_note"] = "MT on twins: random weights, real shapes" if twin_used else "real MT packs"


def _clip_entry(clip: Clip) -> dict[str, Any]:
    return {
        "name": clip.name,
        "language": clip.language,
        "duration_s": clip.duration_s,
        "synthetic": clip.synthetic,
        "mixed": clip.mixed,
        "scored": clip.scored,
    }


def _write_outputs(results: dict[str, Any], out_dir: Path, *, chart: bool) -> None:
    """``results.json``, ``chart.png`` (when ``chart``; a failed chart is only a warning) and ``summary.md``;
    their paths go into ``results["files"]``."""
    json_path = write_json(results, out_dir / "results.json")
    results["files"] = {"json": str(json_path)}
    if chart:
        try:
            results["files"]["chart"] = str(draw_chart(results, out_dir / "chart.png"))
        except Exception as exc:  # the chart is a convenience; the JSON is the result
            _LOGGER.warning("chart not drawn: %s", exc)
    summary_path = out_dir / "summary.md"
    summary_path.write_text(markdown_summary(results), encoding="utf-8")
    results["files"]["summary"] = str(summary_path)
    write_json(results, json_path)


def chrf_section(engines: Any, eval_dir: Path, sentences: int = 50) -> dict[str, Any]:
    """chrF on NTREX-128 for real packs (ja→en, en→ja and a pivot pair); twins are not scored."""
    from bench.scoring import chrf

    section: dict[str, Any] = {}
    for shape, router in engines.routers.items():
        if isinstance(router, TwinRouter):
            section[shape] = {"measured": False, "reason": "no real MT pack installed; twins have no quality"}
            continue
        scores = {}
        for source, target in (("ja", "en"), ("en", "ja"), ("vi", "ja")):
            src = ntrex_lines(eval_dir / "text", source, sentences)
            ref = ntrex_lines(eval_dir / "text", target, sentences)
            if not src or not ref or not router.can_translate(source, target):
                continue
            hyps = [router.translate(line, source, target).text for line in src]
            scores[f"{source}-{target}"] = round(chrf(hyps, ref), 1)
        section[shape] = {"measured": bool(scores), "chrf": scores, "sentences": sentences}
    return section


__all__ = ["BASELINE", "TUNED", "TUNED_M2M", "RunOptions", "run_benchmark"]
