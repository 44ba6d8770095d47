"""``madoguchi bench kokoro-profile``: where a Kokoro voice's first audio goes, step by step.

A fresh voice is loaded as the counter loads it, then each step before the first audio is timed (wall and
this process's CPU): the phonemiser and its dictionaries, the ONNX session, the first (warm-up) run, then
for a sentence the cut into pieces, the first piece's phonemes and its model run with the audio it makes
(speech and the silence the model puts around it). The model's cost grows with its audio: CPU seconds per
audio second is the number to compare across machines; the wall time on a busy machine is mostly waiting.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: A counter sentence per Kokoro language (the phrase book's style).
SAMPLES = {
    "ja": "こちらの用紙にお名前とご住所をご記入ください。",
    "zh": "请在这个窗口领取住民票的副本。",
    "es": "Por favor, muestre su tarjeta de residencia.",
    "pt": "Por favor, mostre o seu cartão de residência.",
    "en": "You can pick up the copy of your residence certificate at this counter.",
}


@dataclass(frozen=True)
class Step:
    """One timed step (milliseconds; ``audio_s`` for a model run)."""

    name: str
    wall_ms: float
    cpu_ms: float
    audio_s: float | None = None
    note: str = ""


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(
    steps: list[Step], name: str, action: Callable[[], Any], note: str = "", *, run: bool = False
) -> Any:
    """Run ``action`` and append its step (``run``: a model run, whose audio length is noted)."""
    wall, cpu = time.perf_counter(), _cpu_s()
    result = action()
    audio = result.size / 24000 if run else None
    steps.append(Step(name, 1000 * (time.perf_counter() - wall), 1000 * (_cpu_s() - cpu), audio, note))
    return result


def profile_first_audio(store_dir: Path | None, voice_id: str, text: str | None = None) -> list[Step]:
    """Time each step to ``voice_id``'s first audio of ``text`` (default: the language's sample)."""
    from edge import engines
    from edge.config import EdgeSettings
    from edge.speech.voices.kokoro import (
        _WARM_TEXT,
        KokoroSynthesizer,
        kokoro_voice_ref,
        trim_leading_silence,
    )
    from edge.speech.voices.kokoro_pieces import stream_pieces

    store = engines.open_store(EdgeSettings(packs_dir=store_dir))
    if store is None:
        raise ValueError("no pack store: install the Kokoro packs first (madoguchi models install ...)")
    pack = store.get(voice_id)
    language = pack.spec.languages[0]
    voice = KokoroSynthesizer.from_ref(kokoro_voice_ref(store, pack, language))
    text = text or SAMPLES.get(language, "ok")
    model = voice._model
    steps: list[Step] = []
    _timed(steps, "phonemiser: load and first call", lambda: voice.phonemes(_WARM_TEXT.get(language, "ok")))
    _timed(
        steps,
        "segmenter: load (first cut)",
        lambda: list(stream_pieces(_WARM_TEXT.get(language, "ok"), language)),
    )
    _timed(steps, "ONNX session: create", model._load, f"{model.threads} intra-op thread(s)")
    warm = model.tokens(voice.phonemes("ok"))
    first_run = lambda: model.run(warm, voice._style[len(warm)], 1.0)  # noqa: E731
    _timed(steps, "model: first run (warm-up)", first_run, run=True)
    pieces = _timed(steps, "cut into pieces", lambda: list(stream_pieces(text, language)))
    phonemes = _timed(steps, "first piece: phonemes", lambda: voice.phonemes(pieces[0]), pieces[0])
    tokens = model.tokens(phonemes)
    audio = _timed(
        steps, "first piece: model run", lambda: model.run(tokens, voice._style[len(tokens)], 1.0), run=True
    )
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    if loud.size:
        lead, tail = loud[0] / 24000, (audio.size - loud[-1]) / 24000
        steps[-1] = Step(**{**steps[-1].__dict__, "note": f"{phonemes} ({len(tokens)} tokens; "
                            f"silence {lead:.2f} s before, {tail:.2f} s after)"})  # fmt: skip
    _timed(steps, "first piece: silence cut", lambda: trim_leading_silence(audio))
    whole = lambda: np.concatenate(list(_pieces_audio(voice, pieces)))  # noqa: E731
    _timed(steps, "whole text: every piece", whole, f"{len(pieces)} pieces", run=True)
    return steps


def _pieces_audio(voice: Any, pieces: list[str]) -> Any:
    for piece in pieces:
        yield from voice._speak(voice.phonemes(piece), 1.0)


def markdown(voice_id: str, steps: list[Step], load: str) -> str:
    """The steps as a Markdown table (CPU per audio second for model runs)."""
    lines = [
        f"Kokoro first audio, {voice_id} (load average {load}).",
        "",
        "| step | wall ms | CPU ms | audio s | CPU s per audio s | note |",
        "|---|---|---|---|---|---|",
    ]
    for step in steps:
        audio = "" if step.audio_s is None else f"{step.audio_s:.2f}"
        ratio = "" if not step.audio_s else f"{step.cpu_ms / 1000 / step.audio_s:.2f}"
        lines.append(
            f"| {step.name} | {step.wall_ms:.0f} | {step.cpu_ms:.0f} | {audio} | {ratio} | {step.note} |"
        )
    return "\n".join(lines) + "\n"
