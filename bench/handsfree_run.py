"""``madoguchi bench handsfree``: the hands-free end-pointing analysis on its own (Whisper only, no MT,
voices or turns), for working on end-pointing without the whole latency run.

results = run_handsfree(HandsfreeRunOptions(per_language=3, settings=("thought-500/2000",)))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clips import ClipSelection, load_manifest, quick_clips, resolve_eval_dir, select_clips
from bench.handsfree import SETTINGS, TentativeAsr, endpointing_table
from bench.markdown import handsfree_lines


@dataclass(frozen=True)
class HandsfreeRunOptions:
    """What the hands-free run measures.

    Attributes:
        out_dir: Where ``handsfree.json`` and ``handsfree.md`` go (None: not written).
        eval_dir: Evaluation data (None: as the latency run chooses).
        store_dir: Pack store with the ASR pack (None: as the latency run chooses).
        asr_pack: ASR pack id.
        per_language: Clips per language (count).
        settings: Names of the end-pointing settings (empty: all of ``bench.handsfree.SETTINGS``).
        beam_size: Beam width of the tentative decodes (the configuration measured).
        threads: CPU threads of Whisper (count).
    """

    out_dir: Path | None = None
    eval_dir: Path | None = None
    store_dir: Path | None = None
    asr_pack: str = "whisper-base"
    per_language: int = 3
    settings: tuple[str, ...] = ()
    beam_size: int = 5
    threads: int = 2


def chosen_settings(names: tuple[str, ...]) -> list[Any]:
    """The named settings in the table's order (all when ``names`` is empty).

    Raises:
        ValueError: a name is not a setting of ``bench.handsfree.SETTINGS`` (the message lists them).
    """
    known = {s.name for s in SETTINGS}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(f"'{s.name}'" for s in SETTINGS)
        raise ValueError(f"unknown hands-free setting {unknown[0]!r}; choose from {listed}")
    return [s for s in SETTINGS if not names or s.name in names]


def run_handsfree(
    options: HandsfreeRunOptions,
    progress: Callable[[str], None] | None = None,
    transcriber: Any | None = None,
) -> dict[str, Any]:
    """Stream the clips through every chosen setting with ``transcriber`` (None: load the ASR pack);
    the results (and files when ``out_dir`` is set)."""
    from bench.latency import resolve_store
    from bench.report import write_json
    from bench.runner import environment
    from edge.speech.asr import AsrOptions, WhisperTranscriber
    from models import PackStore

    say = progress or (lambda _msg: None)
    settings = chosen_settings(options.settings)
    eval_dir = resolve_eval_dir(options.eval_dir)
    clips = select_clips(load_manifest(eval_dir), ClipSelection(max_per_language=options.per_language))
    clips = clips or quick_clips(resolve_eval_dir(options.eval_dir, quick=True))
    loaded = [(clip, clip.load()) for clip in clips]
    if transcriber is None:
        say(f"{len(loaded)} clips; loading {options.asr_pack}")
        store = PackStore(resolve_store(options.store_dir, options.asr_pack))
        transcriber = WhisperTranscriber(
            store.get(options.asr_pack).model_dir, AsrOptions(cpu_threads=options.threads)
        )
        transcriber.warm()
    env = environment(options.threads)
    say(f"{len(settings)} end-pointing settings")
    table = endpointing_table(loaded, transcriber, settings, TentativeAsr(beam_size=options.beam_size))
    env["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results = {"environment": env, "handsfree": {**table, "clip_names": [c.name for c, _ in loaded]}}
    if options.out_dir is not None:
        out = Path(options.out_dir)
        results["files"] = {"json": str(write_json(results, out / "handsfree.json"))}
        (out / "handsfree.md").write_text(markdown(results), encoding="utf-8")
        results["files"]["summary"] = str(out / "handsfree.md")
    return results


def markdown(results: dict[str, Any]) -> str:
    """The run's machine line and its hands-free table."""
    env = results["environment"]
    head = (
        f"Hands-free run {env['date_utc']}, {env['cpu_count']} cores, {env['threads']} threads, load "
        f"average {env.get('load_average_start')} → {env.get('load_average_end')}; "
        f"{len(results['handsfree']['clip_names'])} clips."
    )
    return "\n".join([head, *handsfree_lines(results)]) + "\n"
