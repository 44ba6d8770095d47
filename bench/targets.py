"""The latency run's targets on this machine: each with the measured value and whether it is met."""

from __future__ import annotations

from typing import Any

from bench.browser import WHISPER_TRANSLATE

#: Targets on this 2-core machine (ms, ratio, points, MB).
TARGETS = {
    "direct_p50_ms": 600.0,
    "pivot_p50_ms": 800.0,
    "m2m_p50_ms": 1000.0,
    "ratio_tuned_baseline": 0.35,
    "ja_cer_margin_points": 1.0,
    "peak_rss_mb": 900.0,
    "peak_rss_quickmt_mb": 700.0,
    "handsfree_false_cutoffs": 0.0,
    "handsfree_delay_p50_ms": 700.0,
    "browser_whisper_translate_p50_ms": 700.0,
}

_PROBE_NOTE = "fresh process (memory probe)"


def check_targets(
    summary: dict[str, Any],
    memory: dict[str, Any] | None,
    handsfree: dict[str, Any] | None = None,
    browser: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not measured in this run)."""
    return [
        *_latency_rows(summary),
        *_browser_rows(browser or {}),
        *_memory_rows(memory or {}),
        *_handsfree_rows(handsfree or {}),
    ]


def _browser_rows(browser: dict[str, Any]) -> list[dict[str, Any]]:
    """Release → first audio in chromium for ja → en through Whisper's own translation."""
    row = (browser.get("configs") or {}).get(WHISPER_TRANSLATE) or {}
    return [
        _row(
            "browser release → first audio p50, ja→en via Whisper translate, ms",
            row.get("release_to_first_audio_p50_ms"),
            TARGETS["browser_whisper_translate_p50_ms"],
            note="Debian chromium, fake microphone, Japanese clips",
        )
    ]


def _row(name: str, value: float | None, target: float, note: str = "") -> dict[str, Any]:
    """One target (lower is better); ``met`` is None when ``value`` was not measured."""
    met = None if value is None else value <= target
    return {"target": name, "value": value, "limit": target, "met": met, "note": note}


def _latency_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """End-to-end p50 of the tuned paths, the ratio to the baseline, and the Japanese CER margin."""
    tuned = summary.get("tuned")
    m2m = summary.get("tuned-m2m")
    baseline = summary.get("baseline")
    rows = [
        _row(
            "tuned p50, direct pair ja⇄en (shallow decoder), ms",
            tuned["e2e_direct"]["p50"] if tuned else None,
            TARGETS["direct_p50_ms"],
        ),
        _row(
            "tuned p50, pivot via en (xx→ja), ms",
            tuned["e2e_pivot_or_other"]["p50"] if tuned else None,
            TARGETS["pivot_p50_ms"],
        ),
        _row(
            "tuned-m2m p50, M2M-100 418M, ms",
            m2m["stages"]["e2e_ms"]["p50"] if m2m else None,
            TARGETS["m2m_p50_ms"],
        ),
        _row(
            "tuned / baseline p50",
            tuned["ratio_to_baseline"] if tuned else None,
            TARGETS["ratio_tuned_baseline"],
        ),
    ]
    if tuned and baseline:
        t_cer = tuned["accuracy_pct"].get("ja", {}).get("cer")
        b_cer = baseline["accuracy_pct"].get("ja", {}).get("cer")
        delta = None if t_cer is None or b_cer is None else round(t_cer - b_cer, 1)
        rows.append(
            _row(
                "Japanese CER tuned − baseline, points",
                delta,
                TARGETS["ja_cer_margin_points"],
                note="Japanese-only clips (code-switched ja+en reported apart)",
            )
        )
    return rows


def _memory_rows(memory: dict[str, Any]) -> list[dict[str, Any]]:
    """Peak RSS of the memory probes (M2M-418M size and quickmt size)."""
    return [
        _row(
            "peak RSS, ASR + M2M-418M-size MT + one voice, MB",
            memory.get("peak_rss_mb"),
            TARGETS["peak_rss_mb"],
            note=_PROBE_NOTE,
        ),
        _row(
            "peak RSS, ASR + quickmt-size MT + one voice, MB",
            (memory.get("quickmt") or {}).get("peak_rss_mb"),
            TARGETS["peak_rss_quickmt_mb"],
            note=_PROBE_NOTE,
        ),
    ]


def _handsfree_rows(handsfree: dict[str, Any]) -> list[dict[str, Any]]:
    """False cut-offs and end-of-speech delay of the default hands-free end-pointing."""
    default = handsfree.get("settings", {}).get(handsfree.get("default", ""))
    return [
        _row(
            "hands-free false cut-offs (default end-pointing)",
            default["false_cutoffs"] if default else None,
            TARGETS["handsfree_false_cutoffs"],
        ),
        _row(
            "hands-free end-of-speech delay p50, ms",
            default["delay_p50_ms"] if default else None,
            TARGETS["handsfree_delay_p50_ms"],
        ),
    ]
