"""Peak memory of the device's model set: ASR + one MT twin + one voice, two turns, in a fresh process.

    run_isolated("bench.memory_probe", "memory_probe", {...})   # what ``bench.runner`` does

``levers`` loads and runs as the device does (``edge.memory``: capped malloc arenas, freed pages
returned); the steps show the resident memory after each model is loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.clips import Clip
from bench.configs import TUNED, TUNED_M2M
from bench.latency import Engines, run_turn
from bench.processes import peak_rss_mb
from bench.twin_packs import TwinRouter

#: Text the twin's speech out stands in with (the sample clip's English).
STAND_IN = "Kimura showed me a photo."
#: Imported before the first figure, so that ``python_and_imports`` holds them.
_ENGINE_MODULES = (
    "psutil",
    "edge.engines",
    "edge.config",
    "edge.memory",
    "edge.speech.asr",
    "edge.translate.router",
    "glossary.languages",
    "models",
)


def memory_probe(
    store_dir: str,
    asr_pack: str,
    coverage_store: str,
    tokenizer: str,
    clip_path: str,
    threads: int = 2,
    shape: str = "coverage",
    levers: bool = True,
) -> dict[str, Any]:
    """(Run in a fresh process.) ASR + one MT twin (``coverage``: M2M-100 418M size, ``shallow``: quickmt
    size; ``coverage_store`` is that twin's store) + the English voice, two ja→en turns; peak RSS in MB.
    ``levers``: load and run as the device does (``edge.memory``: capped malloc arenas, large blocks
    mapped on their own, freed pages returned)."""
    for module in _ENGINE_MODULES:
        importlib.import_module(module)
    from edge.memory import configure_malloc, release_free_memory

    def settle() -> None:
        if levers:
            release_free_memory()

    if levers:
        configure_malloc()
    steps: dict[str, float] = {"python_and_imports": _rss_mb()}
    engines = _load_probe_engines(
        Path(store_dir), asr_pack, Path(coverage_store), Path(tokenizer), threads, shape, steps, settle
    )
    clip = Clip(Path(clip_path).name, Path(clip_path), "ja", ("ja",), 0.0, "")
    audio = clip.load()
    for _ in range(2):
        run_turn(engines, TUNED_M2M if shape == "coverage" else TUNED, clip, audio, STAND_IN)
        settle()
    steps["after_two_turns"] = _rss_mb()
    return {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb": _rss_mb(),
        "rss_steps_mb": steps,
        "voices": sorted(engines.voices),
        "shape": shape,
        "levers": levers,
    }


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _load_probe_engines(
    store_dir: Path,
    asr_pack: str,
    mt_store: Path,
    tokenizer: Path,
    threads: int,
    shape: str,
    steps: dict[str, float],
    settle: Callable[[], None],
) -> Engines:
    """Whisper, the English voice and the MT twin of ``mt_store``, noting the RSS after each in ``steps``."""
    from edge import engines as edge_engines
    from edge.config import load_settings
    from edge.speech.asr import AsrOptions, WhisperTranscriber
    from edge.translate.router import MtOptions, MtRouter
    from glossary.languages import COUNTER_LANGUAGES
    from models import PackStore

    store = PackStore(store_dir)
    transcriber = WhisperTranscriber(store.get(asr_pack).model_dir, AsrOptions(cpu_threads=threads))
    transcriber.warm()
    settle()
    steps["asr_loaded"] = _rss_mb()
    settings = load_settings(packs_dir=store_dir, languages=list(COUNTER_LANGUAGES))
    refs = edge_engines.find_voices(settings, store)
    voices = {lang: edge_engines.load_voice(ref) for lang, ref in refs.items() if lang == "en"}  # one voice
    settle()
    steps["voices_loaded"] = _rss_mb()
    mt = MtRouter(
        PackStore(mt_store), MtOptions(intra_threads=threads), glossary=edge_engines.load_glossary()
    )
    router = TwinRouter(mt, tokenizer)
    router.warm([("ja", "en")])
    settle()
    steps["mt_loaded"] = _rss_mb()
    return Engines(transcriber, asr_pack, voices, {shape: router}, {shape: "twin"})
