"""End of speech → first output, per stage, for several configurations side by side.

Every turn goes through the real ``edge.turn.pipeline.TurnPipeline`` with engines loaded once and warm (one
Whisper model, the installed voices, one MT router per MT shape). Configurations only change per-call
options (``AsrOptions``, ``MtOptions``, which router, how TTS output is counted), so they run in the same
process on the same clips, interleaved clip by clip (the order rotates per clip).

The clock starts when ``run_turn`` receives the audio (push-to-talk released = end of speech) and stops
at the first audio sample of the translation (speech out), or at the first text for turns into
Japanese (text-first) and into languages without a voice. Hands-free adds the end-pointing silence
(``VadOptions.min_silence_ms``), reported separately with the false cut-offs it causes.

MT is timed on twins (``bench.twin_packs``) unless a real pack is installed; figures say which. The
configurations are in ``bench.configs``; the fresh-process memory and decoding probes in
``bench.memory_probe`` and ``bench.twin_timing``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import Clip
from bench.configs import BenchConfig
from bench.scoring import error_rate, metric_for, rounded
from bench.twin_packs import TwinRouter, TwinStores
from madoguchi import paths

_LOGGER = logging.getLogger(__name__)

#: Test store of the default packs (``tests/conftest.py``); used when the device store lacks the ASR pack.
FALLBACK_STORE = paths.cache_dir() / "test-store"


# --------------------------------------------------------------------------------------------------
# Engines


@dataclass
class Engines:
    """Everything loaded once: ASR, voices, glossary and one MT router per MT shape."""

    transcriber: Any
    asr_pack: str
    voices: dict[str, Any]
    routers: dict[str, Any]
    mt_labels: dict[str, str]
    load_s: dict[str, float] = field(default_factory=dict)


def resolve_store(store_dir: Path | None, asr_pack: str) -> Path:
    """The pack store to use: ``store_dir``, else the device store, else the test store of default packs.

    Raises:
        EngineUnavailable: no candidate holds ``asr_pack``.
    """
    from edge.config import load_settings
    from edge.errors import EngineUnavailable

    candidates = [store_dir] if store_dir else [load_settings().store_dir, FALLBACK_STORE]
    for candidate in candidates:
        if candidate is not None and (Path(candidate) / asr_pack / "pack.json").is_file():
            return Path(candidate)
    raise EngineUnavailable(
        f"ASR pack '{asr_pack}' is not installed in {', '.join(str(c) for c in candidates)}; "
        f"run `madoguchi models install {asr_pack}` (or pass --store DIR)"
    )


def load_engines(
    store_dir: Path, asr_pack: str, twins: TwinStores, *, threads: int = 2, real_mt: bool = True
) -> Engines:
    """Load the recogniser, every voice of the store and the MT routers (real packs when installed)."""
    from edge import engines
    from edge.config import load_settings
    from edge.speech.asr import AsrOptions, WhisperTranscriber
    from edge.translate.router import MtOptions, MtRouter
    from glossary.languages import COUNTER_LANGUAGES
    from models import PackStore

    load_s: dict[str, float] = {}
    clock = time.perf_counter()
    store = PackStore(store_dir)
    pack = store.get(asr_pack)
    transcriber = WhisperTranscriber(pack.model_dir, AsrOptions(cpu_threads=threads))
    transcriber.warm()
    load_s["asr"] = time.perf_counter() - clock

    clock = time.perf_counter()
    settings = load_settings(packs_dir=store_dir, languages=list(COUNTER_LANGUAGES))
    voices = {lang: engines.load_voice(ref) for lang, ref in engines.find_voices(settings, store).items()}
    for voice in voices.values():
        voice.warm()
    load_s["tts"] = time.perf_counter() - clock

    clock = time.perf_counter()
    glossary = engines.load_glossary()
    options = MtOptions(intra_threads=threads)
    pairs = [("ja", lang) for lang in COUNTER_LANGUAGES if lang != "ja"]
    pairs += [(b, a) for a, b in pairs]
    routers: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for shape, twin_root, real_format in (
        ("shallow", twins.shallow, "ct2-sentencepiece"),
        ("coverage", twins.coverage, "m2m100"),
    ):
        real_pack = store.find_mt("ja", "en")
        if real_mt and real_pack is not None and real_pack.spec.format == real_format:
            routers[shape] = MtRouter(store, options, glossary=glossary)
            labels[shape] = f"real:{real_pack.id}"
        else:
            twin_router = MtRouter(PackStore(twin_root), options, glossary=glossary)
            routers[shape] = TwinRouter(twin_router, twins.tokenizer)
            twin_shape = twins.scale.shallow if shape == "shallow" else twins.scale.coverage
            labels[shape] = f"twin:{twin_shape.name}"
        routers[shape].warm(pairs)
    load_s["mt"] = time.perf_counter() - clock
    return Engines(transcriber, asr_pack, voices, routers, labels, load_s)


# --------------------------------------------------------------------------------------------------
# Turns


def counter_pair(clip: Clip) -> tuple[str, str]:
    """(source, target) of a clip at a Japanese counter: Japanese → English (spoken), others → Japanese."""
    return (clip.language, "en") if clip.language == "ja" else (clip.language, "ja")


def stand_in_texts(engines: Engines, clips: Sequence[tuple[Clip, np.ndarray]]) -> dict[str, str]:
    """Realistic text for the twins' speech out: Whisper's own English translation of each Japanese clip
    (computed before the run; not timed)."""
    from edge.speech.asr import AsrOptions

    transcriber = engines.transcriber
    saved = transcriber.options
    transcriber.options = AsrOptions(cpu_threads=saved.cpu_threads, beam_size=1)
    texts: dict[str, str] = {}
    try:
        for clip, audio in clips:
            if clip.language == "ja":
                texts[clip.name] = transcriber.transcribe(audio, "ja", task="translate").text or "Thank you."
    finally:
        transcriber.options = saved
    return texts


def run_turn(
    engines: Engines, config: BenchConfig, clip: Clip, audio: np.ndarray, stand_in: str | None
) -> dict[str, Any]:
    """One turn of ``clip`` under ``config``; returns the flat per-turn record."""
    from edge.errors import EdgeError

    source, target = counter_pair(clip)
    pipeline = _configured_pipeline(engines, config, source, target, stand_in)
    record = _turn_header(engines, config, clip, audio, source, target)
    cpu_clock = time.process_time()
    streamed, stream_stats = _replay_stream(config, engines, pipeline, audio, target)
    try:
        result = pipeline.run_turn(audio, "auto", target, streamed=streamed)
    except EdgeError as exc:
        record.update(error=f"{type(exc).__name__}: {exc}", e2e_ms=None)
        return record
    cpu_ms = (time.process_time() - cpu_clock) * 1000.0
    wait = stream_stats.release_wait_ms if stream_stats is not None else 0.0
    spoken = target in engines.voices and result.audio is not None
    record.update(_timing_fields(config, result, audio, spoken=spoken, wait=wait, cpu_ms=cpu_ms))
    record.update(_result_fields(clip, result))
    record["fallback"] = bool(record["notices"]) or result.mt_engine in ("none", "whisper-translate")
    if streamed is not None and stream_stats is not None:
        record.update(_stream_fields(streamed, stream_stats, wait))
        streamed.discard()
    router = engines.routers[config.mt_shape]
    if isinstance(router, TwinRouter) and router.last:
        record["mt_source_tokens"] = router.last.get("source_tokens")
        record["mt_forced_tokens"] = router.last.get("forced_tokens")
    if clip.scored:
        record["reference"] = clip.reference
        rate = error_rate(clip.reference, result.source_text, clip.language)
        record[metric_for(clip.language)] = None if rate is None else round(rate, 4)
    return record


def _configured_pipeline(
    engines: Engines, config: BenchConfig, source: str, target: str, stand_in: str | None
) -> Any:
    """The engines set to ``config``'s per-call options, in a ``TurnPipeline`` for one turn."""
    from edge.speech.asr import AsrOptions
    from edge.turn.pipeline import TurnPipeline
    from glossary.languages import COUNTER_LANGUAGES

    transcriber = engines.transcriber
    transcriber.options = replace(
        AsrOptions(cpu_threads=transcriber.options.cpu_threads),
        beam_size=config.asr_beam,
        short_window=config.asr_short_window,
        languages=(source, target) if config.asr_pair_languages else None,
    )
    router = engines.routers[config.mt_shape]
    router.options = replace(router.options, beam_size=config.mt_beam, use_vmap=config.mt_vmap)
    if isinstance(router, TwinRouter):
        router.stand_in = stand_in if target in engines.voices else None
        router.last = {}
    # Twin MT packs have untrained weights and emit random, often repetitive text: the loop guard would
    # keep it off the speaker, and the timing run needs the voice to speak it.
    return TurnPipeline(
        transcriber,
        engines.voices,
        router,
        languages=COUNTER_LANGUAGES,
        asr_pack=engines.asr_pack,
        loop_guard=not engines.mt_labels[config.mt_shape].startswith("twin:"),
    )


def _turn_header(
    engines: Engines, config: BenchConfig, clip: Clip, audio: np.ndarray, source: str, target: str
) -> dict[str, Any]:
    """What a turn is, before it runs: clip, configuration, languages, duration, MT engine."""
    return {
        "clip": clip.name,
        "config": config.name,
        "language": clip.language,
        "source": source,
        "target": target,
        "duration_s": round(audio.size / 16000, 3),
        "synthetic": clip.synthetic,
        "mt": engines.mt_labels[config.mt_shape],
    }


def _first_output(config: BenchConfig, t: dict[str, float], *, spoken: bool) -> tuple[float | None, str]:
    """(ms from release to the first output, its kind): first audio when spoken, else the first text."""
    if spoken:
        e2e = t.get("first_audio") if config.tts_streaming else t.get("first_output", 0.0) + t.get("tts", 0.0)
        return e2e, "audio"
    if "first_output" in t:
        return t["first_output"], "text"
    return t.get("total"), "transcript-only"


def _timing_fields(
    config: BenchConfig, result: Any, audio: np.ndarray, *, spoken: bool, wait: float, cpu_ms: float
) -> dict[str, Any]:
    """End-to-end and per-stage times of a finished turn (ms; ``wait``: release wait for a partial)."""
    t = result.timings_ms
    transcript = result.transcript
    asr_t = transcript.timings_ms if transcript is not None else {}
    e2e, output = _first_output(config, t, spoken=spoken)
    e2e = None if e2e is None else e2e + wait
    tts_wait = (t.get("tts_first") if config.tts_streaming else t.get("tts")) if spoken else None
    return {
        "output": output,
        "e2e_ms": rounded(e2e),
        "first_text_ms": rounded(t["first_output"] + wait) if "first_output" in t else None,
        "vad_ms": rounded(t.get("vad")),
        "asr_ms": rounded(t.get("asr")),
        "asr_encoder_ms": rounded(
            sum(asr_t.get(k, 0.0) for k in ("features", "encode", "guard_features", "guard_encode"))
        ),
        "asr_langid_ms": rounded(asr_t.get("language", 0.0) + asr_t.get("guard_language", 0.0)),
        "asr_decoder_ms": rounded(asr_t.get("decode", 0.0) + asr_t.get("guard_decode", 0.0)),
        "asr_rtf": rounded(t.get("asr", 0.0) / 1000.0 / max(audio.size / 16000, 1e-6), 4),
        "asr_window_s": transcript.window_s if transcript is not None else None,
        "guard_fired": bool(transcript.guard_fired) if transcript is not None else False,
        "mt_ms": rounded(t.get("mt")),
        "tts_first_ms": rounded(t.get("tts_first")),
        "tts_ms": rounded(t.get("tts")),
        "tts_wait_ms": rounded(tts_wait),
        "total_ms": rounded(t.get("total")),
        "cpu_ms": rounded(cpu_ms),
    }


def _result_fields(clip: Clip, result: Any) -> dict[str, Any]:
    """What the turn recognised and which MT engine answered."""
    return {
        "detected_language": result.source_language,
        "language_ok": result.source_language in clip.languages,
        "hypothesis": result.source_text,
        "mt_engine": result.mt_engine,
        "notices": [n for n in result.notices if "Japanese is text-first" not in n],
        "terms_fallback": len(result.terms_fallback),
    }


def _stream_fields(streamed: Any, stats: Any, wait: float) -> dict[str, Any]:
    """Recognition while speaking: how the final was made, the wait at release, the partials."""
    return {
        "release_wait_ms": rounded(wait),
        "partial_at_release": stats.at_release,
        "partial_stopped_after": stats.stopped_after,
        "stream_mode": streamed.mode,
        "stream_prefix_chars": len(streamed.prefix),
        "partials": stats.partials,
        "first_partial_ms": rounded((stats.first_partial_s or 0.0) * 1000.0)
        if stats.first_partial_s is not None
        else None,
        "mt_speculative_reused": streamed.translation_reused,
    }


def _replay_stream(
    config: BenchConfig, engines: Engines, pipeline: Any, audio: np.ndarray, target: str
) -> tuple[Any, Any]:
    """Recognition while speaking, replayed on the clip before the timed turn (``edge.streaming``)."""
    if not config.asr_streaming:
        return None, None
    from edge.speech.replay import replay
    from edge.speech.streaming import PartialRunner, StreamingOptions

    router = engines.routers[config.mt_shape]
    runner = PartialRunner(
        engines.transcriber,
        None,
        options=StreamingOptions(partial_beam=config.partial_beam, stop_at_release=config.partial_stop),
        vad_options=pipeline.vad_options,
        translate_to=(router, target),
    )
    return replay(runner, audio)


def run_configs(
    engines: Engines,
    configs: Sequence[BenchConfig],
    clips: Sequence[tuple[Clip, np.ndarray]],
    *,
    repeats: int = 1,
    progress: Callable[[str], None] | None = None,
    stand_ins: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every config on every clip, interleaved clip by clip (config order rotated per clip);
    ``stand_ins``: the twins' spoken text per clip (``stand_in_texts``; computed when None)."""
    stand_ins = stand_in_texts(engines, clips) if stand_ins is None else stand_ins
    records: list[dict[str, Any]] = []
    n = 0
    for repeat in range(repeats):
        for index, (clip, audio) in enumerate(clips):
            shift = (index + repeat) % len(configs)
            for config in [*configs[shift:], *configs[:shift]]:
                record = run_turn(engines, config, clip, audio, stand_ins.get(clip.name))
                record["repeat"] = repeat
                records.append(record)
                n += 1
                if progress is not None:
                    progress(
                        f"[{n}/{repeats * len(clips) * len(configs)}] {clip.name} {config.name}: "
                        f"{record.get('e2e_ms')} ms"
                    )
    return records
