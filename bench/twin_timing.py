"""Timing of twin MT models: fixed-length decoding on the CPU, each model in a fresh process.

    measure_decode_isolated(model_dir)        # greedy 20→20 tokens: load, median, min, peak RSS
    benchmark_twins(("opus-mt", "quickmt"))   # build each twin shape and time it
    mt_shape_table(twins)                     # the latency run's table: greedy, beam 2/4, vocabulary map

A random model has no natural end of sentence, so the output length is forced (``min_decoding_length =
max_decoding_length``): the figures are the cost of that many tokens.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.processes import peak_rss_mb, run_isolated
from bench.twin_packs import TwinStores
from bench.twins import NLLB_600M, OPUS_MT, SHAPES, build_model

_LOGGER = logging.getLogger(__name__)


def _load_translator(model_dir: Path | str, threads: int, compute_type: str = "int8") -> tuple[Any, float]:
    """(CTranslate2 translator on the CPU, load time in s)."""
    import ctranslate2

    clock = time.perf_counter()
    translator = ctranslate2.Translator(
        str(model_dir), device="cpu", compute_type=compute_type, intra_threads=threads, inter_threads=1
    )
    return translator, time.perf_counter() - clock


def _source_tokens(model_dir: Path | str, tokens: int, spread: int | None = None) -> list[str]:
    """``tokens`` source pieces drawn evenly from the model's vocabulary (past the specials; among the
    first ``spread`` pieces when given)."""
    vocab_file = next(Path(model_dir).glob("s*_vocabulary.json"))
    vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
    return [vocab[3 + (i * 7919) % (spread or len(vocab) - 3)] for i in range(tokens)]


def _decode_ms(translator: Any, source: list[str], tokens: int, repeats: int, **options: Any) -> list[float]:
    """``repeats`` timings (ms) of ``tokens``→``tokens`` decoding, after one warm-up run."""
    samples = []
    for _ in range(repeats + 1):
        clock = time.perf_counter()
        translator.translate_batch(
            [source], max_decoding_length=tokens, min_decoding_length=tokens, **options
        )
        samples.append((time.perf_counter() - clock) * 1000.0)
    return samples[1:]


def measure_decode(
    model_dir: Path | str, *, tokens: int = 20, threads: int = 2, repeats: int = 5, compute_type: str = "int8"
) -> dict[str, float]:
    """Time ``tokens``→``tokens`` greedy decoding (length forced) on ``model_dir``; median of ``repeats``.

    Returns ``load_s``, ``decode_ms`` (median), ``decode_ms_min`` and ``peak_rss_mb`` (of this process).
    """
    translator, load_s = _load_translator(model_dir, threads, compute_type)
    samples = _decode_ms(translator, _source_tokens(model_dir, tokens), tokens, repeats, beam_size=1)
    return {
        "load_s": load_s,
        "decode_ms": statistics.median(samples),
        "decode_ms_min": min(samples),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_decode_isolated(model_dir: Path | str, **kwargs: int | str) -> dict[str, float]:
    """``measure_decode`` in a fresh Python process, so ``peak_rss_mb`` is the model's alone."""
    return run_isolated(
        "bench.twin_timing",
        "measure_decode",
        {"model_dir": str(model_dir), **kwargs},
        timeout_s=None,
        check=True,
    )


def benchmark_twins(
    names: Sequence[str] = tuple(SHAPES),
    work_dir: Path | str | None = None,
    *,
    tokens: int = 20,
    threads: int = 2,
) -> list[dict[str, float | str]]:
    """Build each named twin (int8) and time ``tokens``→``tokens`` greedy decoding in a fresh process.

    Rows: ``shape``, ``build_s``, ``model_mb``, ``load_s``, ``decode_ms``, ``decode_ms_min``,
    ``ms_per_token``, ``peak_rss_mb``. Twins are deleted after timing unless ``work_dir`` is given.
    """
    rows: list[dict[str, float | str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(work_dir) if work_dir is not None else Path(tmp)
        for name in names:
            out = base / name
            t0 = time.perf_counter()
            build_model(SHAPES[name], out)
            build_s = time.perf_counter() - t0
            row: dict[str, float | str] = {"shape": name, "build_s": round(build_s, 2)}
            row["model_mb"] = round((out / "model.bin").stat().st_size / 1e6, 1)
            row.update(measure_decode_isolated(out, tokens=tokens, threads=threads, repeats=7))
            row["ms_per_token"] = round(float(row["decode_ms_min"]) / tokens, 2)
            rows.append(row)
            if work_dir is None:
                shutil.rmtree(out, ignore_errors=True)
    return rows


def decode_probe(model_dir: str, tokens: int = 20, threads: int = 2, repeats: int = 3) -> dict[str, Any]:
    """(Run in a fresh process.) ``tokens``→``tokens`` forced decoding: greedy, beam 2, beam 4, and greedy
    with the vocabulary map when the model has one; medians in ms, load time, peak RSS."""
    translator, load_s = _load_translator(model_dir, threads)
    source = _source_tokens(model_dir, tokens, spread=5000)
    variants: dict[str, dict[str, Any]] = {
        "greedy": {"beam_size": 1},
        "beam2": {"beam_size": 2},
        "beam4": {"beam_size": 4},
    }
    if (Path(model_dir) / "vmap.txt").is_file():
        variants["greedy_vmap"] = {"beam_size": 1, "use_vmap": True}
        variants["beam4_vmap"] = {"beam_size": 4, "use_vmap": True}
    result: dict[str, Any] = {"load_s": round(load_s, 2)}
    for name, options in variants.items():
        samples = _decode_ms(translator, source, tokens, repeats, **options)
        result[f"{name}_ms"] = round(statistics.median(samples), 1)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def mt_shape_table(
    twins: TwinStores, *, include_extra: bool = True, cache: Path | None = None
) -> dict[str, Any]:
    """20→20-token decoding of every twin shape, each in a fresh process (``twin`` figures)."""
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
        rows[label] = run_isolated("bench.twin_timing", "decode_probe", {"model_dir": str(directory)})
        _LOGGER.info("MT shape %s: %s", label, rows[label])
    return rows
