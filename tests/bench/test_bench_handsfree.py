"""``madoguchi bench handsfree``: the end-pointing analysis alone, with where the delay went (real Whisper
base on the repository's clips)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.handsfree import DEFAULT_SETTING
from bench.handsfree_run import HandsfreeRunOptions, chosen_settings, run_handsfree
from edge.speech.asr import AsrOptions, WhisperTranscriber
from tests.support.cli import run_madoguchi

REPO = Path(__file__).resolve().parents[2]


def test_unknown_setting_is_a_usage_error_listing_the_settings() -> None:
    with pytest.raises(ValueError, match="silence-500"):
        chosen_settings(("thought-1/2",))
    assert [s.name for s in chosen_settings((DEFAULT_SETTING, "silence-500"))] == [
        "silence-500",
        DEFAULT_SETTING,
    ]
    proc = run_madoguchi(
        "bench", "handsfree", "--setting", "thought-1/2", env={"PYTHONPATH": str(REPO)}, timeout=120
    )
    assert proc.returncode == 2 and "thought-500/2000" in proc.stderr


@pytest.mark.parametrize("command", [("bench", "handsfree"), ("bench",)])
def test_a_named_evaluation_folder_that_is_missing_is_a_usage_error(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """A mistyped ``--eval-dir`` (or a relative one run from elsewhere) names the folder, instead of
    quietly measuring the bundled sample clip."""
    missing = tmp_path / "shared" / "eval"
    env = {"PYTHONPATH": str(REPO), "COLUMNS": "1000"}  # the message on one line
    proc = run_madoguchi(*command, "--eval-dir", str(missing), env=env, timeout=120)
    assert proc.returncode == 2 and f"'{missing}' does not exist" in proc.stderr


def test_handsfree_run_reports_cutoffs_delay_and_where_it_went(
    whisper_base: WhisperTranscriber, eval_dir: Path, tmp_path: Path
) -> None:
    asr = whisper_base.with_options(AsrOptions(languages=whisper_base.options.languages))
    options = HandsfreeRunOptions(
        out_dir=tmp_path, eval_dir=eval_dir, per_language=1, settings=("silence-500", DEFAULT_SETTING)
    )
    results = run_handsfree(options, transcriber=asr)
    table = results["handsfree"]
    assert set(table["settings"]) == {"silence-500", DEFAULT_SETTING}
    names = table["clip_names"]
    assert len(names) >= 3  # one per language of the manifest
    aware = table["settings"][DEFAULT_SETTING]
    assert 0 <= aware["false_cutoffs"] <= aware["clips"]
    assert 0 <= aware["ended_on_finished_sentence"] <= aware["clips"]
    assert aware["check_decode_p50_ms"] > 0 and aware["check_wait_p50_ms"] >= 0
    assert aware["check_cpu_p50_ms"] > 0  # the check decode's process CPU time
    assert table["settings"]["silence-500"]["check_cpu_p50_ms"] is None  # silence alone decodes nothing
    for clip in names:
        run = table["per_clip"][clip][DEFAULT_SETTING]
        assert run["ended_by"] in ("finished", "cap") and run["check_decode_ms"] > 0
        assert run["check_cpu_ms"] > 0
        # a finished sentence ends after the short silence, anything else only at the cap
        if run["ended_by"] == "finished":
            assert 450 <= run["delay_ms"] < 2000, run
        else:
            assert run["delay_ms"] >= 1900, run
        assert table["per_clip"][clip]["silence-500"]["ended_by"] == "silence"
    saved = json.loads((tmp_path / "handsfree.json").read_text(encoding="utf-8"))
    assert saved["handsfree"]["settings"] == json.loads(json.dumps(table["settings"]))
    summary = (tmp_path / "handsfree.md").read_text(encoding="utf-8")
    assert f"`{DEFAULT_SETTING}`" in summary and "check at silence: wait / decode (CPU)" in summary
    assert asr.options.beam_size == 1  # the run's beam was set for the run only
