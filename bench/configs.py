"""Configurations of the latency benchmark: which ASR, MT and TTS options one turn runs with.

``baseline`` is the engines' defaults, ``tuned`` every lever on; the levers are one change each on top of
the baseline. Configurations only change per-call options, so they all run in one process on warm engines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class BenchConfig:
    """One configuration of the turn pipeline.

    Attributes:
        name: Short name (table row, JSON key).
        description: What it changes.
        asr_beam: Whisper beam width (count).
        asr_short_window: Encode only the speech padded to ``min_window_s`` (with the guard) instead of 30 s.
        asr_pair_languages: Language ID among the counter pair only (False: every Whisper language).
        mt_shape: ``coverage`` (M2M-100 418M shape, direct) or ``shallow`` (quickmt shape, direct or pivot).
        mt_beam: MT beam width (count).
        mt_vmap: Restrict the output vocabulary with the pack's vocabulary map.
        tts_streaming: First audio after the first sentence (False: after the whole text is synthesised).
        asr_streaming: Recognise while the speaker speaks (``edge.streaming``, replayed on the clip): the
            final decode reuses the last partial or is forced through its stable prefix.
        partial_beam: Beam of the partial decodes (None: the same as ``asr_beam``).
        group: ``main`` or ``lever`` (one change on top of the baseline).
    """

    name: str
    description: str
    asr_beam: int = 5
    asr_short_window: bool = False
    asr_pair_languages: bool = False
    mt_shape: str = "coverage"
    mt_beam: int = 4
    mt_vmap: bool = False
    tts_streaming: bool = False
    asr_streaming: bool = False
    partial_beam: int | None = None
    group: str = "main"


BASELINE = BenchConfig(
    "baseline",
    "faster-whisper defaults (30 s window, beam 5, language ID over all languages); "
    "M2M-100 418M shape, beam 4, full vocabulary; whole-text TTS after MT",
)
TUNED = BenchConfig(
    "tuned",
    "recognition while speaking (final = reused partial or stable-prefix decode), beam 5, short window "
    "(min 10 s) with guard, language ID within the pair; quickmt shape (direct ja⇄en, pivot via en "
    "otherwise), greedy, speculative MT; first sentence spoken as soon as ready",
    asr_beam=5,
    asr_short_window=True,
    asr_pair_languages=True,
    mt_shape="shallow",
    mt_beam=1,
    tts_streaming=True,
    asr_streaming=True,
)
TUNED_M2M = replace(
    TUNED,
    name="tuned-m2m",
    description="tuned, but MT on the M2M-100 418M shape (greedy + 16k vocabulary map): the coverage path",
    mt_shape="coverage",
    mt_vmap=True,
)
TUNED_ASR_BEAM = replace(
    TUNED,
    name="tuned-asr-beam5",
    description="tuned without recognition while speaking: beam 5 decoded after release",
    asr_streaming=False,
)
TUNED_GREEDY = replace(
    TUNED,
    name="tuned-greedy",
    description="the earlier tuned: greedy Whisper decoded after release (no recognition while speaking)",
    asr_beam=1,
    asr_streaming=False,
)
TUNED_BEAM3 = replace(TUNED, name="tuned-beam3", description="tuned with Whisper beam 3", asr_beam=3)
LEVERS: tuple[BenchConfig, ...] = (
    replace(BASELINE, name="+asr-window", description="short ASR window + guard", asr_short_window=True),
    replace(BASELINE, name="+asr-greedy", description="ASR beam 1", asr_beam=1),
    replace(BASELINE, name="+asr-pair", description="language ID within the pair", asr_pair_languages=True),
    replace(BASELINE, name="+mt-shallow", description="quickmt shape (8+2 layers, 20k)", mt_shape="shallow"),
    replace(BASELINE, name="+mt-greedy", description="MT beam 1", mt_beam=1),
    replace(BASELINE, name="+mt-vmap", description="MT vocabulary map (16k)", mt_vmap=True),
    replace(BASELINE, name="+tts-stream", description="speak the first sentence at once", tts_streaming=True),
    replace(BASELINE, name="+asr-stream", description="recognition while speaking", asr_streaming=True),
)
LEVERS = tuple(replace(c, group="lever") for c in LEVERS)
CONFIGS: dict[str, BenchConfig] = {
    c.name: c for c in (BASELINE, TUNED, TUNED_M2M, TUNED_ASR_BEAM, TUNED_GREEDY, TUNED_BEAM3, *LEVERS)
}


def config_names(spec: str) -> list[BenchConfig]:
    """Configs from a comma list (``all``, ``main``, ``levers`` expand); ValueError on a bad name."""
    chosen: list[BenchConfig] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        if part == "all":
            names = list(CONFIGS)
        elif part == "main":
            names = [BASELINE.name, TUNED.name, TUNED_M2M.name, TUNED_ASR_BEAM.name, TUNED_GREEDY.name]
        elif part == "levers":
            names = [c.name for c in LEVERS]
        elif part in CONFIGS:
            names = [part]
        else:
            raise ValueError(f"unknown configuration {part!r}; use {', '.join(CONFIGS)}, main, levers or all")
        chosen.extend(CONFIGS[n] for n in names if CONFIGS[n] not in chosen)
    return chosen


def config_dict(config: BenchConfig) -> dict[str, Any]:
    """JSON form of a config."""
    return asdict(config)
