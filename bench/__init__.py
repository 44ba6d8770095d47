"""Benchmarks of madoguchi: random-weight model twins, timing and quality runs."""

from bench.configs import CONFIGS, BenchConfig
from bench.load import LoadOptions, run_load
from bench.runner import RunOptions, run_benchmark
from bench.tiny_packs import build_tiny_translator
from bench.twin_timing import benchmark_twins, measure_decode, measure_decode_isolated
from bench.twins import (
    M2M100_418M,
    NLLB_600M,
    OPUS_MT,
    QUICKMT,
    SHAPES,
    TINY,
    TwinShape,
    build_model,
)

__all__ = [
    "CONFIGS",
    "M2M100_418M",
    "NLLB_600M",
    "OPUS_MT",
    "QUICKMT",
    "SHAPES",
    "TINY",
    "BenchConfig",
    "LoadOptions",
    "RunOptions",
    "TwinShape",
    "benchmark_twins",
    "build_model",
    "build_tiny_translator",
    "measure_decode",
    "measure_decode_isolated",
    "run_benchmark",
    "run_load",
]
