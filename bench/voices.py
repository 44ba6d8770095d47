"""``madoguchi bench voices``: how intelligible and how fast each installed voice is.

For every installed voice (voice packs of the store, and the espeak-ng machine voice for the languages
it speaks), the phrase book's sentences in the voice's language are synthesised in a child process (so
its peak memory is the voice's own), then transcribed back with the installed Whisper (after the VAD's
pre-roll of silence, as the counter's recogniser hears an utterance: ``as_captured``). Reported per voice
and language: round-trip CER (ja, zh) or WER (others) against the phrase text, RTF (synthesis time /
audio time), first-chunk latency (text ready → first piece of audio; wall and the child's CPU time, the
CPU showing what a busy machine hides), peak RSS of the child and the
load time. For Japanese the CER is also given on readings (kana), which does not count a kanji/kana
spelling choice of Whisper as an error: the reading the voice was asked to say (the glossary's readings;
for ``ja-easy``, the phrase book's Easy Japanese side, the furigana shown) against Whisper's text read by
OpenJTalk with the same glossary readings.
"""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import resource
import statistics
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.processes import peak_rss_mb
from bench.scoring import corpus_error_rate, kana_error_rate, metric_for

_LOGGER = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VoiceRow:
    """One voice speaking one language over the phrase book."""

    voice: str
    engine: str
    quality: str
    language: str
    phrases: int
    metric: str
    error_rate: float | None
    kana_cer: float | None
    rtf: float
    first_chunk_ms_median: float
    first_chunk_ms_p90: float
    first_chunk_cpu_ms_median: float
    peak_rss_mb: float
    load_s: float
    audio_s: float


def phrase_texts(language: str, limit: int | None = None) -> list[str]:
    """The phrase book's sentences in ``language`` (``ja``, ``ja-easy`` or a resident language)."""
    from glossary import bundled_glossary

    texts = [p.translation(language) for p in sorted(bundled_glossary().phrases.values(), key=lambda p: p.id)]
    texts = [t for t in texts if t.strip()]
    return texts[:limit] if limit else texts


def voice_refs(store_dir: Path | None) -> list[Any]:
    """Every installed voice of the store (all voices of each language, not only the preferred one)
    and the espeak-ng machine voice for each language it speaks."""
    from edge import engines
    from edge.config import EdgeSettings
    from edge.speech.voices import ESPEAK_ENGINE, VoiceRef
    from edge.speech.voices.espeak import ESPEAK_ATTRIBUTION, ESPEAK_VOICES, espeak_binary
    from glossary.languages import COUNTER_LANGUAGES

    settings = EdgeSettings(packs_dir=store_dir, fallback_voice_languages=[])
    store = engines.open_store(settings)
    refs: list[Any] = []
    if store is not None:
        for language in COUNTER_LANGUAGES:
            for pack in store.find("tts", language):
                ref = engines._pack_voice(store, pack, language)
                if ref is not None:
                    refs.append(ref)
    if espeak_binary() is not None:
        refs.extend(
            VoiceRef(lang, None, None, ESPEAK_ENGINE, engine=ESPEAK_ENGINE, attribution=ESPEAK_ATTRIBUTION)
            for lang in COUNTER_LANGUAGES
            if lang in ESPEAK_VOICES
        )
    return refs


def _synthesise_child(ref: Any, texts: list[str], readings: bool, queue: Any) -> None:
    """Child process: load the voice, speak every text, report timings, audio and peak RSS."""
    from edge.speech.voices import load_voice

    try:
        started = time.perf_counter()
        glossary = None
        if ref.language == "ja":  # the Japanese voices read the glossary's terms with its readings
            from glossary import bundled_glossary

            glossary = bundled_glossary()
        voice = load_voice(ref, glossary=glossary)
        voice.warm()
        load_s = time.perf_counter() - started
        easy = None
        if readings:
            from edge.easy_ja import default_easy_japanese

            easy = default_easy_japanese()
        results = []
        for text in texts:
            segments = tuple((s.text, s.reading) for s in easy.furigana(text).segments) if easy else None
            clock, cpu = time.perf_counter(), _cpu_s()
            first = first_cpu = None
            chunks, rate = [], voice.sample_rate
            speech = voice.synthesize_readings(segments) if segments else voice.synthesize(text)
            for chunk in speech:
                if first is None:
                    first, first_cpu = time.perf_counter() - clock, _cpu_s() - cpu
                chunks.append(chunk.samples())
                rate = chunk.sample_rate
            elapsed = time.perf_counter() - clock
            audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
            results.append(
                {
                    "first_s": first or elapsed,
                    "first_cpu_s": first_cpu if first_cpu is not None else _cpu_s() - cpu,
                    "elapsed_s": elapsed,
                    "rate": rate,
                    "pcm": audio,
                }
            )
        peak = peak_rss_mb()
        queue.put(
            {"ok": True, "load_s": load_s, "results": results, "peak_rss_mb": peak, "quality": voice.quality}
        )
    except Exception as exc:  # reported as a row error, the run goes on
        queue.put({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def _cpu_s() -> float:
    """CPU time of this process so far (all threads: a voice's inference threads count too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_report(child: Any, queue: Any, timeout_s: float) -> dict[str, Any]:
    """The child's report; an error report when it died without one (a crash, a kill) or overran."""
    import queue as queues

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            report = queue.get(timeout=5)
        except queues.Empty:
            if child.is_alive():
                continue
            try:  # it may have reported just before exiting
                return queue.get(timeout=5)
            except queues.Empty:
                return {"ok": False, "error": f"synthesis process exited with code {child.exitcode}"}
        child.join(timeout=60)
        return report
    child.terminate()
    child.join(timeout=60)
    return {"ok": False, "error": f"synthesis took longer than {timeout_s:.0f} s"}


def _to_16k(pcm: np.ndarray, rate: int) -> np.ndarray:
    from faster_whisper.audio import decode_audio

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.astype("<i2").tobytes())
    buffer.seek(0)
    return decode_audio(buffer, sampling_rate=16000)


def as_captured(audio: np.ndarray) -> np.ndarray:
    """16 kHz ``audio`` as the counter's recogniser gets an utterance: after the VAD's pre-roll of silence
    (``VadOptions.speech_pad_ms``). A voice's first chunk starts 0.05 s before its first sound (so it plays
    sooner); Whisper base decoded such clips worse than the same audio after a lead of silence (Mandarin,
    72 phrases: CER 11.1 / 9.5 % with no lead, 9.3-10.7 / 8.8-9.3 % with 0.1-0.25 s, zf_xiaobei /
    zm_yunjian; bench/results/voices-zh-2026-12-08.md)."""
    from edge.audio.vad import VadOptions

    lead = np.zeros(VadOptions().speech_pad_ms * 16, dtype=np.float32)
    return np.concatenate([lead, np.asarray(audio, dtype=np.float32)])


class KanaReader:
    """Readings (katakana) through OpenJTalk with the glossary's readings, as the Japanese voices read."""

    def __init__(self, glossary: Any | None = None) -> None:
        import tempfile

        from edge.speech.voices.ja_reading import front_end

        if glossary is None:
            from glossary import bundled_glossary

            glossary = bundled_glossary()
        self._workdir = tempfile.TemporaryDirectory(prefix="madoguchi-bench-")
        self._jtalk = front_end(glossary, Path(self._workdir.name))
        self._easy: Any = None

    def heard(self, text: str) -> str:
        """How ``text`` (Whisper's) reads."""
        from edge.speech.voices.ja_reading import reading_of

        return reading_of(text, self._jtalk) if text.strip() else ""

    def asked(self, text: str, language: str) -> str:
        """What a Japanese voice is asked to say for ``text``: the furigana shown for ``ja-easy``."""
        if language != "ja-easy":
            return self.heard(text)
        from edge.easy_ja import default_easy_japanese
        from edge.speech.voices.ja_reading import displayed_reading

        self._easy = self._easy or default_easy_japanese()
        return displayed_reading([(s.text, s.reading) for s in self._easy.furigana(text).segments])


def bench_transcriber(store_dir: Path | None, asr_pack: str) -> tuple[Any, str]:
    """The recogniser the counter would use (its settings: beam width, threads, window), from
    ``store_dir``; each clip is then decoded in the language the voice speaks, as at the counter."""
    from edge import engines
    from edge.config import EdgeSettings

    return engines.load_transcriber(EdgeSettings(packs_dir=store_dir, asr_pack=asr_pack))


def _run_voice(
    ref: Any, language: str, texts: list[str], transcriber: Any, kana: KanaReader | None, heard_log: list[Any]
) -> VoiceRow | dict[str, str]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_synthesise_child, args=(ref, texts, language == "ja-easy", queue))
    child.start()
    report = _child_report(child, queue, timeout_s=1800)
    if not report["ok"]:
        return {"voice": ref.pack_id, "language": language, "error": report["error"]}
    spoken = "ja" if language == "ja-easy" else language
    pairs, audio_s, synth_s, firsts, first_cpus = [], 0.0, 0.0, [], []
    for text, item in zip(texts, report["results"], strict=True):
        duration = item["pcm"].size / item["rate"]
        audio_s += duration
        synth_s += item["elapsed_s"]
        firsts.append(item["first_s"] * 1000)
        first_cpus.append(item["first_cpu_s"] * 1000)
        clip = as_captured(_to_16k(item["pcm"], item["rate"]))
        heard = transcriber.transcribe(clip, spoken).text if duration else ""
        pairs.append((text, heard))
    kana_cer, kana_pairs = None, []
    if spoken == "ja" and kana is not None:
        kana_pairs = [(kana.asked(a, language), kana.heard(b)) for a, b in pairs]
        kana_cer = kana_error_rate(kana_pairs)
    heard_log.append(
        {
            "voice": ref.pack_id,
            "language": language,
            "phrases": [
                {"text": text, "heard": heard, **({"kana": list(kana_pairs[i])} if kana_pairs else {})}
                for i, (text, heard) in enumerate(pairs)
            ],
        }
    )
    rate = corpus_error_rate(pairs, spoken)
    return VoiceRow(
        voice=ref.pack_id,
        engine=ref.engine,
        quality=report["quality"],
        language=language,
        phrases=len(texts),
        metric=metric_for(spoken),
        error_rate=None if rate is None else round(rate, 4),
        kana_cer=None if kana_cer is None else round(kana_cer, 4),
        rtf=round(synth_s / audio_s, 3) if audio_s else 0.0,
        first_chunk_ms_median=round(statistics.median(firsts), 1),
        first_chunk_ms_p90=round(sorted(firsts)[max(0, int(0.9 * len(firsts)) - 1)], 1),
        first_chunk_cpu_ms_median=round(statistics.median(first_cpus), 1),
        peak_rss_mb=round(report["peak_rss_mb"], 1),
        load_s=round(report["load_s"], 2),
        audio_s=round(audio_s, 1),
    )


def run_voice_bench(
    store_dir: Path | None,
    out_dir: Path,
    *,
    asr_pack: str = "whisper-base",
    languages: list[str] | None = None,
    voices: list[str] | None = None,
    limit: int | None = None,
    progress: Progress = lambda _msg: None,
) -> dict[str, Any]:
    """Benchmark every installed voice (or only ``voices``) over the phrase book; writes ``voices.json`` and
    ``voices.md``."""
    transcriber, asr_id = bench_transcriber(store_dir, asr_pack)
    rows: list[dict[str, Any]] = []
    kana: KanaReader | None = None
    heard_log: list[Any] = []
    for ref in voice_refs(store_dir):
        if voices and ref.pack_id not in voices:
            continue
        spoken = [ref.language, "ja-easy"] if ref.language == "ja" else [ref.language]
        for language in spoken:
            if languages and language not in languages:
                continue
            texts = phrase_texts(language, limit)
            if not texts:
                continue
            progress(f"{ref.pack_id} ({language}): {len(texts)} phrases")
            if ref.language == "ja" and kana is None:
                kana = KanaReader()
            row = _run_voice(ref, language, texts, transcriber, kana, heard_log)
            rows.append(asdict(row) if isinstance(row, VoiceRow) else row)
    baseline = _child_baseline_mb()
    results = {
        "asr_pack": asr_id,
        "asr_beam_size": transcriber.options.beam_size,
        "rows": rows,
        "child_baseline_rss_mb": baseline,
        "limit": limit,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "voices.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    (out_dir / "voices.md").write_text(markdown_table(results))
    heard_path = out_dir / "voices-heard.json"
    heard_path.write_text(json.dumps(heard_log, ensure_ascii=False, indent=1) + "\n")
    results["files"] = {
        "json": str(out_dir / "voices.json"),
        "markdown": str(out_dir / "voices.md"),
        "heard": str(heard_path),
    }
    return results


def _baseline_child(queue: Any) -> None:
    import edge.speech.voices  # noqa: F401  (what every voice child imports before its engine)

    queue.put(peak_rss_mb())


def _child_baseline_mb() -> float:
    """Peak RSS of a child that imports the voice registry only (subtract it for a voice's own cost)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_baseline_child, args=(queue,))
    child.start()
    value = float(queue.get(timeout=300))
    child.join(timeout=60)
    return round(value, 1)


def markdown_table(results: dict[str, Any]) -> str:
    """The voice table as Markdown (one row per voice and language)."""
    lines = [
        f"Voices over the phrase book, transcribed back with {results['asr_pack']} "
        f"(beam {results.get('asr_beam_size', '?')}, the voice's language; "
        f"child baseline RSS {results['child_baseline_rss_mb']} MB).",
        "",
        "| voice | quality | lang | phrases | metric | round-trip | kana CER | RTF | first chunk ms "
        "(median/p90) | first chunk CPU ms | peak RSS MB | load s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        if "error" in row:
            lines.append(f"| {row['voice']} | error | {row['language']} | {row['error']} ||||||||")
            continue
        rate = "-" if row["error_rate"] is None else f"{100 * row['error_rate']:.1f}%"
        kana = "-" if row["kana_cer"] is None else f"{100 * row['kana_cer']:.1f}%"
        lines.append(
            f"| {row['voice']} | {row['quality']} | {row['language']} | {row['phrases']} | {row['metric']} "
            f"| {rate} | {kana} | {row['rtf']} | {row['first_chunk_ms_median']:.0f}/"
            f"{row['first_chunk_ms_p90']:.0f} | {row.get('first_chunk_cpu_ms_median', 0):.0f} "
            f"| {row['peak_rss_mb']:.0f} | {row['load_s']} |"
        )
    return "\n".join(lines) + "\n"
