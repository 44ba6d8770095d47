"""Accuracy figures of the benchmark: CER (ja, zh) / WER (others) with jiwer, chrF with sacrebleu.

Both sides are normalised the same way before scoring: Unicode NFKC, lower case, punctuation and symbols
removed, whitespace collapsed; for character error rates all spaces are removed as well (Japanese and
Chinese references are unsegmented). Chinese is compared in one script: both sides are converted to
simplified characters with OpenCC (Whisper often writes Mandarin in traditional characters while the
phrase book is simplified: the same words, not an error). Japanese readings (katakana) are compared with
long vowels folded (``fold_long_vowels``: ジュウミンヒョウ and ジューミンヒョー are the same speech).
"""

from __future__ import annotations

import functools
import logging
import statistics
import unicodedata
from collections.abc import Callable, Sequence

_LOGGER = logging.getLogger(__name__)

#: Languages scored by character error rate (no spaces between words).
CER_LANGUAGES = frozenset({"ja", "zh"})


@functools.cache
def _simplifier() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def to_simplified(text: str) -> str:
    """Chinese text in simplified characters (OpenCC ``t2s``; other scripts unchanged)."""
    return _simplifier()(text)


def normalize(text: str, *, keep_spaces: bool = True, language: str | None = None) -> str:
    """NFKC, lower case, no punctuation or symbols, single spaces (none when ``keep_spaces`` is False);
    Chinese (``language`` ``zh``) in simplified characters."""
    text = unicodedata.normalize("NFKC", text).lower()
    if language == "zh":
        text = to_simplified(text)
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
    ref = normalize(reference, keep_spaces=not cer, language=language)
    hyp = normalize(hypothesis, keep_spaces=not cer, language=language)
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
        ref = normalize(reference, keep_spaces=not cer, language=language)
        if ref:
            refs.append(ref)
            hyps.append(
                normalize(hypothesis, keep_spaces=not cer, language=language) or (" " if cer else "<empty>")
            )
    if not refs:
        return None
    return float(jiwer.cer(refs, hyps) if cer else jiwer.wer(refs, hyps))


#: The vowel each katakana ends in (small kana included; ン and ッ have none).
_VOWEL_OF = {
    **dict.fromkeys("アカサタナハマヤラワガザダバパァャヮ", "ア"),
    **dict.fromkeys("イキシチニヒミリギジヂビピィ", "イ"),
    **dict.fromkeys("ウクスツヌフムユルグズヅブプゥュヴ", "ウ"),
    **dict.fromkeys("エケセテネヘメレゲゼデベペェ", "エ"),
    **dict.fromkeys("オコソトノホモヨロヲゴゾドボポォョ", "オ"),
}
#: The second letters that lengthen a vowel: ア after a, イ after i or e, ウ after u or o, エ after e,
#: オ after o (おかあさん, おにいさん, せんせい, ゆうびん, とうきょう, おねえさん, おおきい).
_LENGTHENS = {"ア": "ア", "イ": "イエ", "ウ": "ウオ", "エ": "エ", "オ": "オ"}


def fold_long_vowels(kana: str) -> str:
    """Katakana with every long vowel written ``ー`` (ジュウミンヒョウ → ジューミンヒョー,
    センセイ → センセー): the dictionary's reading and the pronunciation spell the same speech differently."""
    out: list[str] = []
    vowel = ""
    for ch in kana:
        if ch == "ー" or (vowel and ch in _LENGTHENS and vowel in _LENGTHENS[ch] and out[-1] != "ー"):
            out.append("ー")
            continue
        out.append(ch)
        vowel = _VOWEL_OF.get(ch, "")
    return "".join(out)


def kana_error_rate(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Corpus CER of katakana readings (reference, hypothesis) with long vowels folded on both sides."""
    return corpus_error_rate([(fold_long_vowels(a), fold_long_vowels(b)) for a, b in pairs], "ja")


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
