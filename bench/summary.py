"""Summaries of a latency run's turns: per-config percentiles, accuracy, streaming, and the levers.

summary = summarize(records, ["baseline", "tuned"], mixed_clips)
levers = lever_rows(summary, records)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.scoring import corpus_error_rate, metric_for, percentile, rounded

#: Stages in pipeline order: (record key, label).
STAGES: tuple[tuple[str, str], ...] = (
    ("vad_ms", "VAD"),
    ("asr_encoder_ms", "ASR encoder"),
    ("asr_langid_ms", "ASR lang-ID"),
    ("asr_decoder_ms", "ASR decoder"),
    ("mt_ms", "MT"),
    ("tts_first_ms", "TTS first chunk"),
    ("tts_ms", "TTS total"),
)
_TIMED = (
    "e2e_ms",
    "first_text_ms",
    "asr_ms",
    "asr_rtf",
    "total_ms",
    "cpu_ms",
    "tts_wait_ms",
    "release_wait_ms",
    "first_partial_ms",
    *(k for k, _ in STAGES),
)


def values_of(records: Sequence[dict[str, Any]], key: str) -> list[float]:
    """The ``key`` figures of ``records`` that were measured (None left out)."""
    return [float(r[key]) for r in records if r.get(key) is not None]


def _stats(records: Sequence[dict[str, Any]], key: str) -> dict[str, float | None]:
    values = values_of(records, key)
    digits = 3 if key.endswith("rtf") else 1
    return {
        "p50": rounded(percentile(values, 50), digits),
        "p90": rounded(percentile(values, 90), digits),
        "n": len(values),
    }


def is_direct(record: dict[str, Any]) -> bool:
    """True for the ja⇄en turns (one pack: direct pair); the others pivot through English on quickmt."""
    return "en" in (record["source"], record["target"])


def summarize(
    records: Sequence[dict[str, Any]], config_names: Sequence[str], mixed_clips: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Per-config percentiles, accuracy (first repeat only; code-switched clips apart) and counts."""
    summary: dict[str, Any] = {}
    for name in config_names:
        rows = [r for r in records if r["config"] == name and r.get("e2e_ms") is not None]
        first = [r for r in rows if r.get("repeat", 0) == 0]
        entry: dict[str, Any] = {"turns": len(rows), "errors": sum(1 for r in records if r["config"] == name)}
        entry["errors"] -= len(rows)
        entry["stages"] = {key: _stats(rows, key) for key in _TIMED}
        entry["e2e_speech_out"] = _stats([r for r in rows if r.get("output") == "audio"], "e2e_ms")
        entry["e2e_text_out"] = _stats([r for r in rows if r.get("output") != "audio"], "e2e_ms")
        entry["e2e_direct"] = _stats([r for r in rows if is_direct(r)], "e2e_ms")
        entry["e2e_pivot_or_other"] = _stats([r for r in rows if not is_direct(r)], "e2e_ms")
        entry["guard_fired"] = sum(1 for r in first if r.get("guard_fired"))
        entry["fallbacks"] = sum(1 for r in first if r.get("fallback"))
        entry["language_wrong"] = sum(1 for r in first if not r.get("language_ok", True))
        entry["term_fallbacks_twin"] = sum(int(r.get("terms_fallback") or 0) for r in first)
        entry["accuracy_pct"] = _accuracy(first, mixed_clips)
        entry["streaming"] = _streaming(rows)
        summary[name] = entry
    base = summary.get("baseline", {}).get("stages", {}).get("e2e_ms", {}).get("p50")
    for entry in summary.values():
        p50 = entry["stages"]["e2e_ms"]["p50"]
        entry["ratio_to_baseline"] = round(p50 / base, 3) if base and p50 is not None else None
    return summary


def _accuracy(first: Sequence[dict[str, Any]], mixed_clips: frozenset[str]) -> dict[str, Any]:
    """Corpus CER/WER (%) per language over real speech with a reference; code-switched clips apart."""
    accuracy: dict[str, Any] = {}
    for language in sorted({r["language"] for r in first}):
        for mixed in (False, True):
            pairs = [
                (r["reference"], r.get("hypothesis", ""))
                for r in first
                if r["language"] == language
                and r.get("reference")
                and not r.get("synthetic")
                and (r["clip"] in mixed_clips) is mixed
            ]
            rate = corpus_error_rate(pairs, language)
            if rate is not None:
                key = f"{language}+mixed" if mixed else language
                accuracy[key] = {metric_for(language): round(100 * rate, 1), "clips": len(pairs)}
    return accuracy


def _streaming(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Recognition while speaking: how finals were made, the wait at release, the first tentative text."""
    streamed = [r for r in rows if r.get("stream_mode") is not None]
    if not streamed:
        return None
    modes: dict[str, int] = {}
    at_release: dict[str, int] = {}
    for row in streamed:
        modes[row["stream_mode"]] = modes.get(row["stream_mode"], 0) + 1
        state = row.get("partial_at_release") or "idle"
        at_release[state] = at_release.get(state, 0) + 1
    return {
        "final_modes": modes,
        "partial_at_release": at_release,
        "release_wait_ms": _stats(streamed, "release_wait_ms"),
        "first_partial_ms": _stats(streamed, "first_partial_ms"),
        "partials_p50": rounded(percentile(values_of(streamed, "partials"), 50)),
        "mt_speculative_reused": sum(1 for r in streamed if r.get("mt_speculative_reused")),
        "turns": len(streamed),
    }


#: The stage each lever acts on (record key).
LEVER_STAGES = {
    "+asr-window": "asr_encoder_ms",
    "+asr-greedy": "asr_decoder_ms",
    "+asr-pair": "asr_langid_ms",
    "+mt-shallow": "mt_ms",
    "+mt-greedy": "mt_ms",
    "+mt-vmap": "mt_ms",
    "+tts-stream": "tts_wait_ms",
}


def paired_saving(
    records: Sequence[dict[str, Any]], name: str, key: str, base: str = "baseline"
) -> float | None:
    """Median over clips of ``base − name`` for ``key`` (same clip, same pass: load drift cancels)."""
    by_turn = {(r["clip"], r.get("repeat", 0), r["config"]): r for r in records}
    diffs = []
    for (clip, repeat, config), row in by_turn.items():
        if config != name:
            continue
        ref = by_turn.get((clip, repeat, base))
        if ref is not None and ref.get(key) is not None and row.get(key) is not None:
            diffs.append(float(ref[key]) - float(row[key]))
    return rounded(percentile(diffs, 50))


def ja_cer(entry: dict[str, Any] | None) -> float | None:
    """The Japanese CER (%) of a configuration's summary, or None."""
    return ((entry or {}).get("accuracy_pct") or {}).get("ja", {}).get("cer")


def lever_rows(summary: dict[str, Any], records: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Each lever alone on top of the baseline (and each main configuration): p50, the saving against the
    baseline, the paired (per-clip) median saving end to end and on the stage the lever acts on, and what
    it did to the Japanese CER (points against the baseline)."""
    baseline = summary.get("baseline")
    base = (baseline or {}).get("stages", {}).get("e2e_ms", {}).get("p50")
    base_cer = ja_cer(baseline)
    rows = []
    for name, entry in summary.items():
        if name == "baseline":
            continue
        p50 = entry["stages"]["e2e_ms"]["p50"]
        stage = LEVER_STAGES.get(name)
        cer = ja_cer(entry)
        rows.append(
            {
                "lever": name,
                "p50_ms": p50,
                "saved_ms": None if base is None or p50 is None else round(base - p50, 1),
                "ratio": entry.get("ratio_to_baseline"),
                "paired_saved_ms": paired_saving(records, name, "e2e_ms") if records else None,
                "stage": stage,
                "stage_paired_saved_ms": paired_saving(records, name, stage) if records and stage else None,
                "ja_cer": cer,
                "ja_cer_delta_points": None if cer is None or base_cer is None else round(cer - base_cer, 1),
            }
        )
    return rows
