"""Benchmarks of madoguchi: random-weight model twins, timing and quality runs."""

from bench.twins import (
    M2M100_418M,
    NLLB_600M,
    OPUS_MT,
    QUICKMT,
    SHAPES,
    TINY,
    TwinShape,
    benchmark_twins,
    build_model,
    build_tiny_translator,
    measure_decode,
    measure_decode_isolated,
)

__all__ = [
    "M2M100_418M",
    "NLLB_600M",
    "OPUS_MT",
    "QUICKMT",
    "SHAPES",
    "TINY",
    "TwinShape",
    "benchmark_twins",
    "build_model",
    "build_tiny_translator",
    "measure_decode",
    "measure_decode_isolated",
]
