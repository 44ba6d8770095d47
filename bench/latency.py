"""End of speech → first output, per stage, for several configurations side by side.

Every turn goes through the real ``edge.turn.pipeline.TurnPipeline`` with engines loaded once and warm (one
Whisper model, the installed voices, one MT router per MT shape). Configurations only change per-call
options (``AsrOptions``, ``MtOptions``, which router, how TTS output is counted), so they run in the same
process on the same clips, interleaved clip by clip (the order rotates per clip).

The clock starts when ``run_turn`` receives the audio (push-to-talk released = end of speech) and stops
at the first audio sample of the translation (speech out), or at the first text for turns into
Japanese (text-first) and into languages without a voice. Hands-free adds the end-pointing silence
(``VadOptions.min_silence_ms``), reported separately with the false cut-offs it causes.

MT is timed on twins (``bench.twin_packs``) unless a real pack is installed; figures say which.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.clips import REPO_ROOT, Clip
from bench.scoring import error_rate, metric_for
from bench.twin_packs import TwinRouter, TwinStores
from madoguchi import paths

_LOGGER = logging.getLogger(__name__)

#: Test store of the default packs (``tests/conftest.py``); used when the device store lacks the ASR pack.
FALLBACK_STORE = paths.cache_dir() / "test-store"


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
    from edge.speech.asr import AsrOptions
    from edge.turn.pipeline import TurnPipeline
    from glossary.languages import COUNTER_LANGUAGES

    source, target = counter_pair(clip)
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
    pipeline = TurnPipeline(
        transcriber,
        engines.voices,
        router,
        languages=COUNTER_LANGUAGES,
        asr_pack=engines.asr_pack,
        loop_guard=not engines.mt_labels[config.mt_shape].startswith("twin:"),
    )
    record: dict[str, Any] = {
        "clip": clip.name,
        "config": config.name,
        "language": clip.language,
        "source": source,
        "target": target,
        "duration_s": round(audio.size / 16000, 3),
        "synthetic": clip.synthetic,
        "mt": engines.mt_labels[config.mt_shape],
    }
    cpu_clock = time.process_time()
    streamed, stream_stats = _replay_stream(config, engines, pipeline, audio, target)
    try:
        result = pipeline.run_turn(audio, "auto", target, streamed=streamed)
    except EdgeError as exc:
        record.update(error=f"{type(exc).__name__}: {exc}", e2e_ms=None)
        return record
    t = result.timings_ms
    transcript = result.transcript
    asr_t = transcript.timings_ms if transcript is not None else {}
    spoken = target in engines.voices and result.audio is not None
    if spoken:
        e2e = t.get("first_audio") if config.tts_streaming else t.get("first_output", 0.0) + t.get("tts", 0.0)
        output = "audio"
    elif "first_output" in t:
        e2e, output = t["first_output"], "text"
    else:
        e2e, output = t.get("total"), "transcript-only"
    cpu_ms = (time.process_time() - cpu_clock) * 1000.0
    wait = stream_stats.release_wait_ms if stream_stats is not None else 0.0
    e2e = None if e2e is None else e2e + wait
    guard_fired = bool(transcript.guard_fired) if transcript is not None else False
    tts_wait = (t.get("tts_first") if config.tts_streaming else t.get("tts")) if spoken else None
    record.update(
        {
            "output": output,
            "e2e_ms": _round(e2e),
            "first_text_ms": _round(t["first_output"] + wait) if "first_output" in t else None,
            "vad_ms": _round(t.get("vad")),
            "asr_ms": _round(t.get("asr")),
            "asr_encoder_ms": _round(
                sum(asr_t.get(k, 0.0) for k in ("features", "encode", "guard_features", "guard_encode"))
            ),
            "asr_langid_ms": _round(asr_t.get("language", 0.0) + asr_t.get("guard_language", 0.0)),
            "asr_decoder_ms": _round(asr_t.get("decode", 0.0) + asr_t.get("guard_decode", 0.0)),
            "asr_rtf": _round(t.get("asr", 0.0) / 1000.0 / max(audio.size / 16000, 1e-6), 4),
            "asr_window_s": transcript.window_s if transcript is not None else None,
            "guard_fired": guard_fired,
            "mt_ms": _round(t.get("mt")),
            "tts_first_ms": _round(t.get("tts_first")),
            "tts_ms": _round(t.get("tts")),
            "tts_wait_ms": _round(tts_wait),
            "total_ms": _round(t.get("total")),
            "cpu_ms": _round(cpu_ms),
            "detected_language": result.source_language,
            "language_ok": result.source_language in clip.languages,
            "hypothesis": result.source_text,
            "mt_engine": result.mt_engine,
            "notices": [n for n in result.notices if "Japanese is text-first" not in n],
            "terms_fallback": len(result.terms_fallback),
        }
    )
    record["fallback"] = bool(record["notices"]) or result.mt_engine in ("none", "whisper-translate")
    if streamed is not None and stream_stats is not None:
        record.update(
            {
                "release_wait_ms": _round(wait),
                "partial_at_release": stream_stats.at_release,
                "partial_stopped_after": stream_stats.stopped_after,
                "stream_mode": streamed.mode,
                "stream_prefix_chars": len(streamed.prefix),
                "partials": stream_stats.partials,
                "first_partial_ms": _round((stream_stats.first_partial_s or 0.0) * 1000.0)
                if stream_stats.first_partial_s is not None
                else None,
                "mt_speculative_reused": streamed.translation_reused,
            }
        )
        streamed.discard()
    if isinstance(router, TwinRouter) and router.last:
        record["mt_source_tokens"] = router.last.get("source_tokens")
        record["mt_forced_tokens"] = router.last.get("forced_tokens")
    if clip.scored:
        record["reference"] = clip.reference
        rate = error_rate(clip.reference, result.source_text, clip.language)
        record[metric_for(clip.language)] = None if rate is None else round(rate, 4)
    return record


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
        options=StreamingOptions(partial_beam=config.partial_beam),
        vad_options=pipeline.vad_options,
        translate_to=(router, target),
    )
    return replay(runner, audio)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def run_configs(
    engines: Engines,
    configs: Sequence[BenchConfig],
    clips: Sequence[tuple[Clip, np.ndarray]],
    *,
    repeats: int = 1,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Every config on every clip, interleaved clip by clip (config order rotated per clip)."""
    stand_ins = stand_in_texts(engines, clips)
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


# --------------------------------------------------------------------------------------------------
# Hands-free end-pointing


def endpointing_cutoffs(
    clips: Sequence[tuple[Clip, np.ndarray]], silences_ms: Sequence[int] = (300, 500, 800)
) -> dict[str, Any]:
    """How many clips the streaming VAD would cut mid-utterance at each end-of-speech silence length.

    A clip is "cut" when the ``Segmenter`` emits more than one utterance for it (every clip is one turn;
    clips noted as concatenated utterances are reported but not counted).
    """
    from edge.audio.vad import Segmenter, Utterance, VadOptions

    out: dict[str, Any] = {"silences_ms": list(silences_ms), "per_clip": {}, "cut": {}, "clips": 0}
    for silence in silences_ms:
        out["cut"][str(silence)] = 0
    for clip, audio in clips:
        multi = "concatenated" in clip.note or "utterances" in clip.note
        counts: dict[str, int] = {}
        for silence in silences_ms:
            segmenter = Segmenter(VadOptions(min_silence_ms=silence))
            utterances = 0
            for start in range(0, audio.size, 480):  # 30 ms frames, like a microphone callback
                utterances += sum(
                    isinstance(o, Utterance) for o in segmenter.push(audio[start : start + 480])
                )
            utterances += sum(isinstance(o, Utterance) for o in segmenter.flush())
            counts[str(silence)] = utterances
            if utterances > 1 and not multi:
                out["cut"][str(silence)] += 1
        out["per_clip"][clip.name] = {"utterances": counts, "multi_utterance_clip": multi}
        out["clips"] += 0 if multi else 1
    return out


# --------------------------------------------------------------------------------------------------
# Memory and MT shapes (fresh processes, so each figure is one model set alone)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB): ``VmHWM``, else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _run_isolated(function: str, kwargs: dict[str, Any], timeout_s: float = 600.0) -> dict[str, Any]:
    code = (
        f"import json,sys;from bench.latency import {function} as f;"
        "print(json.dumps(f(**json.loads(sys.argv[1]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail}
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    ``levers``:
    load and run as the device does (``edge.memory``: capped malloc arenas, freed pages returned)."""
    import psutil

    from edge import engines as edge_engines
    from edge.config import load_settings
    from edge.memory import limit_malloc_arenas, release_free_memory
    from edge.speech.asr import AsrOptions, WhisperTranscriber
    from edge.translate.router import MtOptions, MtRouter
    from glossary.languages import COUNTER_LANGUAGES
    from models import PackStore

    def rss() -> float:
        return round(psutil.Process().memory_info().rss / 2**20, 1)

    def settle() -> None:
        if levers:
            release_free_memory()

    if levers:
        limit_malloc_arenas()
    steps: dict[str, float] = {"python_and_imports": rss()}
    store = PackStore(Path(store_dir))
    transcriber = WhisperTranscriber(store.get(asr_pack).model_dir, AsrOptions(cpu_threads=threads))
    transcriber.warm()
    settle()
    steps["asr_loaded"] = rss()
    settings = load_settings(packs_dir=Path(store_dir), languages=list(COUNTER_LANGUAGES))
    refs = edge_engines.find_voices(settings, store)
    voices = {lang: edge_engines.load_voice(ref) for lang, ref in refs.items() if lang == "en"}  # one voice
    settle()
    steps["voices_loaded"] = rss()
    mt = MtRouter(
        PackStore(Path(coverage_store)),
        MtOptions(intra_threads=threads),
        glossary=edge_engines.load_glossary(),
    )
    router = TwinRouter(mt, Path(tokenizer))
    router.warm([("ja", "en")])
    settle()
    steps["mt_loaded"] = rss()
    engines = Engines(transcriber, asr_pack, voices, {shape: router}, {shape: "twin"})
    clip = Clip(Path(clip_path).name, Path(clip_path), "ja", ("ja",), 0.0, "")
    audio = clip.load()
    for _ in range(2):
        run_turn(
            engines, TUNED_M2M if shape == "coverage" else TUNED, clip, audio, "Kimura showed me a photo."
        )
        settle()
    steps["after_two_turns"] = rss()
    return {
        "peak_rss_mb": peak_rss_mb(),
        "rss_mb": rss(),
        "rss_steps_mb": steps,
        "voices": sorted(voices),
        "shape": shape,
        "levers": levers,
    }


def decode_probe(model_dir: str, tokens: int = 20, threads: int = 2, repeats: int = 3) -> dict[str, Any]:
    """(Run in a fresh process.) ``tokens``→``tokens`` forced decoding: greedy, beam 2, beam 4, and greedy
    with the vocabulary map when the model has one; medians in ms, load time, peak RSS."""
    import statistics

    import ctranslate2

    clock = time.perf_counter()
    translator = ctranslate2.Translator(model_dir, device="cpu", compute_type="int8", intra_threads=threads)
    load_s = time.perf_counter() - clock
    vocab_file = next(Path(model_dir).glob("s*_vocabulary.json"))
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    source = [vocab[3 + (i * 7919) % 5000] for i in range(tokens)]
    variants: dict[str, dict[str, Any]] = {
        "greedy": {"beam_size": 1},
        "beam2": {"beam_size": 2},
        "beam4": {"beam_size": 4},
    }
    if (Path(model_dir) / "vmap.txt").is_file():
        variants["greedy_vmap"] = {"beam_size": 1, "use_vmap": True}
        variants["beam4_vmap"] = {"beam_size": 4, "use_vmap": True}
    result: dict[str, Any] = {"load_s": round(load_s, 2)}
    for name, kwargs in variants.items():
        samples = []
        for _ in range(repeats + 1):
            t = time.perf_counter()
            translator.translate_batch(
                [source], max_decoding_length=tokens, min_decoding_length=tokens, **kwargs
            )
            samples.append((time.perf_counter() - t) * 1000.0)
        result[f"{name}_ms"] = round(statistics.median(samples[1:]), 1)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def mt_shape_table(
    twins: TwinStores, *, include_extra: bool = True, cache: Path | None = None
) -> dict[str, Any]:
    """20→20-token decoding of every twin shape, each in a fresh process (``twin`` figures)."""
    from bench.twins import NLLB_600M, OPUS_MT, build_model

    rows: dict[str, Any] = {}
    models = {
        f"twin:{twins.scale.shallow.name}": twins.shallow / "twin-shallow-xx-en",
        f"twin:{twins.scale.coverage.name}": twins.coverage / "twin-coverage",
    }
    if include_extra:
        root = (cache or twins.tokenizer.parent) / "models"
        for shape in (OPUS_MT, NLLB_600M):
            directory = root / shape.name
            if not (directory / "model.bin").is_file():
                build_model(shape, directory)
            models[f"twin:{shape.name}"] = directory
    for label, directory in models.items():
        rows[label] = _run_isolated("decode_probe", {"model_dir": str(directory)})
        _LOGGER.info("MT shape %s: %s", label, rows[label])
    return rows


def config_dict(config: BenchConfig) -> dict[str, Any]:
    """JSON form of a config."""
    return asdict(config)
