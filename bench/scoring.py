"""Accuracy figures of the benchmark: CER (ja, zh) / WER (others) with jiwer, chrF with sacrebleu.

Both sides are normalised the same way before scoring: Unicode NFKC, lower case, punctuation and symbols
removed, whitespace collapsed; for character error rates all spaces are removed as well (Japanese and
Chinese references are unsegmented).
"""

from __future__ import annotations

import logging
import statistics
import unicodedata
from collections.abc import Sequence

_LOGGER = logging.getLogger(__name__)

#: Languages scored by character error rate (no spaces between words).
CER_LANGUAGES = frozenset({"ja", "zh"})


def normalize(text: str, *, keep_spaces: bool = True) -> str:
    """NFKC, lower case, no punctuation or symbols, single spaces (none when ``keep_spaces`` is False)."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = [" " if unicodedata.category(ch)[0] in "PSZ" or ch.isspace() else ch for ch in text]
    words = "".join(kept).split()
    return (" " if keep_spaces else "").join(words)


def metric_for(language: str) -> str:
    """``cer`` for Japanese and Chinese, ``wer`` for the others."""
    return "cer" if language in CER_LANGUAGES else "wer"


def error_rate(reference: str, hypothesis: str, language: str) -> float | None:
    """CER or WER (0..∞, 1.0 = as many errors as reference units) of one clip; None without a reference."""
    import jiwer

    cer = metric_for(language) == "cer"
    ref = normalize(reference, keep_spaces=not cer)
    hyp = normalize(hypothesis, keep_spaces=not cer)
    if not ref:
        return None
    if cer:
        return float(jiwer.cer(ref, hyp or " "))
    return float(jiwer.wer(ref, hyp or "<empty>"))


def corpus_error_rate(pairs: Sequence[tuple[str, str]], language: str) -> float | None:
    """Corpus-level CER/WER (errors summed over all clips / reference units summed)."""
    import jiwer

    cer = metric_for(language) == "cer"
    refs, hyps = [], []
    for reference, hypothesis in pairs:
        ref = normalize(reference, keep_spaces=not cer)
        if ref:
            refs.append(ref)
            hyps.append(normalize(hypothesis, keep_spaces=not cer) or (" " if cer else "<empty>"))
    if not refs:
        return None
    return float(jiwer.cer(refs, hyps) if cer else jiwer.wer(refs, hyps))


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu defaults, 0..100)."""
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100, linear interpolation); None for no values."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    if len(data) == 1:
        return float(data[0])
    position = (len(data) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return float(data[low] + (data[high] - data[low]) * (position - low))


def median(values: Sequence[float]) -> float | None:
    """Median, or None for no values."""
    data = [v for v in values if v is not None]
    return float(statistics.median(data)) if data else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    """``value`` as a float rounded to ``digits`` (None stays None): the figures of every report."""
    return None if value is None else round(float(value), digits)
