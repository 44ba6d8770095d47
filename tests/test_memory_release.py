"""What a finished test module built is released: a counter app's pipeline does not outlive it."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from starlette.testclient import TestClient

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.turn.pipeline import TurnPipeline
from tests.support.memory import clear_framework_caches, release_module_memory


def _serve_once(tmp_path: Path) -> weakref.ref[TurnPipeline]:
    """Build a counter app over a pipeline, answer one request, drop both; a weak reference remains."""
    pipeline = TurnPipeline(None, {}, None, languages=("ja", "en"))
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs", languages=["ja", "en"])
    app = create_app(settings, pipeline=pipeline, options=CounterOptions(idle_timeout_s=0))
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/api/status").status_code == 200
    return weakref.ref(pipeline)


def test_framework_caches_keep_an_app_s_pipeline_until_released(tmp_path: Path) -> None:
    gone = _serve_once(tmp_path / "kept")
    gc.collect()
    assert gone() is not None  # FastAPI's endpoint caches hold the app's closures, and so the pipeline
    release_module_memory()
    assert gone() is None


def test_clearing_reports_the_caches_it_emptied() -> None:
    assert clear_framework_caches() >= 3  # FastAPI's coroutine, generator and async-generator checks
