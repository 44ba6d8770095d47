"""``madoguchi bench``: the quick run end to end (real Whisper, real voice, tiny MT twins) and its parts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.clips import ClipSelection, load_manifest, quick_clips, select_clips
from bench.configs import BASELINE, TUNED, config_names
from bench.handsfree import endpointing_cutoffs
from bench.scoring import error_rate, normalize, percentile
from tests.support.cli import run_madoguchi

REPO = Path(__file__).resolve().parents[2]


def _run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_madoguchi(*args, env={"PYTHONPATH": str(REPO), **env}, timeout=600)


def _quick_run(store: Path, eval_dir: Path, tmp_path: Path, made: str | None) -> Path:
    """The output directory of a ``madoguchi bench --quick`` run on the repository's clips.

    ``script/test`` runs the quick benchmark once before the suite (on a quiet machine), in a directory it
    empties first, and names that directory on pytest's command line (``--bench-quick-results``, ``made``):
    that run is checked. Elsewhere the test runs it itself.
    """
    if made:
        results = Path(made) / "results.json"
        assert results.is_file(), f"no results.json in {made}: did script/test's bench --quick fail?"
        return Path(made)
    out = tmp_path / "bench"
    proc = _run_cli(
        ["bench", "--quick", "--out", str(out), "--store", str(store)], {"MADOGUCHI_EVAL_DIR": str(eval_dir)}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.mark.slow
def test_quick_run_writes_results_for_both_configs(
    default_store, eval_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    made = request.config.getoption("bench_quick_results")
    out = _quick_run(default_store.root, eval_dir, tmp_path, made)
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["quick"] is True
    assert Path(results["environment"]["eval_set"]).resolve() == eval_dir.resolve()  # the repository's clips
    assert set(results["summary"]) == {"baseline", "tuned"}
    clips = results["clips"]
    assert 1 <= len(clips) <= 3
    assert len(results["turns"]) == 2 * len(clips)
    for turn in results["turns"]:
        assert turn["e2e_ms"] > 0, turn
        if turn.get("stream_mode") != "reused":  # a reused partial needs no decode after release
            assert turn["asr_encoder_ms"] > 0 and turn["asr_decoder_ms"] > 0
        assert turn["mt"].startswith("twin:")  # no real MT pack: figures are labelled as twins
        assert turn["output"] in ("audio", "text")
    by_config = {t["config"]: t for t in results["turns"] if t["clip"] == clips[0]["name"]}
    assert by_config["baseline"]["asr_window_s"] == 30
    assert by_config["tuned"]["asr_window_s"] < 30
    stages = results["summary"]["tuned"]["stages"]
    assert {"e2e_ms", "vad_ms", "asr_encoder_ms", "asr_decoder_ms", "mt_ms", "tts_ms"} <= set(stages)
    assert results["summary"]["baseline"]["ratio_to_baseline"] == 1.0
    assert {row["target"] for row in results["targets"]} and results["environment"]["cpu_count"] >= 1
    assert results["endpointing"]["silences_ms"] == [500]
    # Recognition while speaking (tuned): partials replayed on each clip, the final made from them.
    tuned_turns = [t for t in results["turns"] if t["config"] == "tuned"]
    assert all(t["stream_mode"] in ("reused", "prefix", "full") and t["partials"] >= 1 for t in tuned_turns)
    assert results["summary"]["tuned"]["streaming"]["turns"] == len(tuned_turns)
    assert results["summary"]["baseline"]["streaming"] is None
    # Hands-free: silence alone and the end-of-thought end-pointer, with cut-offs and delays.
    handsfree = results["handsfree"]["settings"]
    assert set(handsfree) == {"silence-500", results["handsfree"]["default"]}
    for row in handsfree.values():
        assert 0 <= row["false_cutoffs"] <= row["clips"] and row["delay_p50_ms"] > 0
    # ... and per configuration: the tuned one waits for the end of a thought, the baseline has silence.
    per_config = results["handsfree"]["configs"]
    assert per_config["tuned"]["setting"] == results["handsfree"]["default"]
    assert per_config["baseline"]["setting"] == "silence-500"
    assert per_config["tuned"]["false_cutoffs"] == handsfree[results["handsfree"]["default"]]["false_cutoffs"]
    # What each configuration bought against the baseline, in ms and in Japanese CER points.
    (lever,) = results["levers"]
    assert lever["lever"] == "tuned" and lever["paired_saved_ms"] is not None
    tuned_cer = results["summary"]["tuned"]["accuracy_pct"]["ja"]["cer"]
    base_cer = results["summary"]["baseline"]["accuracy_pct"]["ja"]["cer"]
    assert lever["ja_cer_delta_points"] == round(tuned_cer - base_cer, 1)
    browser_target = next(r for r in results["targets"] if r["target"].startswith("browser"))
    assert browser_target["met"] is None  # no browser in a quick run: not measured, not "met"
    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    assert "hands-free end-pointing" in summary_md and "hands-free per configuration" in summary_md
    assert "ja CER vs baseline, points" in summary_md
    run_s = results["environment"]["run_s"]  # how long each part of the run took
    assert {"setup", "turns", "handsfree", "total"} <= set(run_s) and run_s["total"] >= run_s["turns"] > 0
    assert "Run took" in summary_md
    assert "twins" in results["environment"]["mt_note"]
    if "chart" in results["files"]:
        assert (out / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_configuration_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run_cli(["bench", "--quick", "--configs", "baseline,warp-speed", "--out", str(tmp_path)], {})
    assert proc.returncode != 0
    assert "warp-speed" in proc.stderr
    assert not (tmp_path / "results.json").exists()


def test_config_names_expand_groups() -> None:
    assert [c.name for c in config_names("baseline,tuned")] == ["baseline", "tuned"]
    levers = config_names("levers")
    assert all(c.group == "lever" and c.name.startswith("+") for c in levers)
    # each lever changes exactly one knob of the baseline
    for lever in levers:
        changed = [
            f
            for f in (
                "asr_beam",
                "asr_short_window",
                "asr_pair_languages",
                "mt_shape",
                "mt_beam",
                "mt_vmap",
                "tts_streaming",
                "asr_streaming",
            )
            if getattr(lever, f) != getattr(BASELINE, f)
        ]
        assert len(changed) == 1, (lever.name, changed)
    assert TUNED.asr_short_window and not BASELINE.asr_short_window


def test_normalisation_and_error_rates() -> None:
    assert normalize("Hello, World!  It's") == "hello world it s"
    assert error_rate("これはテスト文です", "これは、テスト文です。", "ja") == 0.0
    assert error_rate("木村さん", "木村さま", "ja") == pytest.approx(0.25)
    assert error_rate("STUFF IT INTO YOU", "Stuff it into you.", "en") == 0.0
    assert error_rate("a b c d", "a b x d", "en") == pytest.approx(0.25)
    assert error_rate("", "anything", "en") is None
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([], 50) is None


def test_clip_selection_from_the_manifest(eval_dir: Path) -> None:
    clips = load_manifest(eval_dir)
    assert len(clips) >= 8, f"the repository's clips are missing from {eval_dir / 'speech'}"
    chosen = select_clips(clips, ClipSelection(max_per_language=2, max_synthetic_per_language=1))
    per_language: dict[str, int] = {}
    for clip in chosen:
        assert 1.0 <= clip.duration_s <= 16.0
        per_language[clip.language] = per_language.get(clip.language, 0) + (0 if clip.synthetic else 1)
        assert not clip.synthetic or clip.language in ("ja", "zh")
    assert per_language and max(per_language.values()) <= 2
    assert all(clip.scored is (bool(clip.reference) and not clip.synthetic) for clip in chosen)


def test_quick_clips_fall_back_to_the_bundled_sample(tmp_path: Path) -> None:
    clips = quick_clips(tmp_path / "nowhere")
    assert [c.language for c in clips] == ["ja"]
    audio = clips[0].load()
    assert audio.dtype.name == "float32" and audio.size > 16000
    cut = endpointing_cutoffs([(clips[0], audio)], (500,))
    assert cut["per_clip"][clips[0].name]["utterances"]["500"] >= 1


def test_hands_free_analysis_can_take_more_clips_than_the_turns(eval_dir: Path) -> None:
    """``--handsfree-per-language``: end-pointing on its own per-language selection of the manifest."""
    from bench.runner import RunOptions, _handsfree_clips

    manifest = select_clips(load_manifest(eval_dir), ClipSelection(max_per_language=1))
    own = [(manifest[0], manifest[0].load())]
    assert _handsfree_clips(RunOptions(), eval_dir, own) is own
    wider = _handsfree_clips(RunOptions(handsfree_per_language=1), eval_dir, own)
    assert [c.name for c, _ in wider] == [c.name for c in manifest]
    assert all(audio.size > 0 for _, audio in wider)
