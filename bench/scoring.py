"""Accuracy figures of the benchmark: CER (ja, zh) / WER (others) with jiwer, chrF with sacrebleu.

Both sides are normalised the same way before scoring: Unicode NFKC, lower case, punctuation and symbols
removed, whitespace collapsed; for character error rates all spaces are removed as well (Japanese and
Chinese references are unsegmented). Chinese is compared in one script and one way of writing numbers: both
sides are converted to simplified characters with OpenCC (Whisper often writes Mandarin in traditional
characters while the phrase book is simplified: the same words, not an error) and their numbers written
as they are said, by the rules the Mandarin voice reads by (``edge.speech.voices.zh_text``: the phrase
book's 15天 is the 十五天 Whisper may write, 300日元 is 三百日元, 2个月 is 两个月, 8:30 is 八点三十分).
Spanish, Portuguese and English numbers are compared as words on both sides (num2words: 15 → quince;
Whisper writes either).
Japanese readings (katakana) are compared with long vowels folded (``fold_long_vowels``:
ジュウミンヒョウ and ジューミンヒョー are the same speech).
"""

from __future__ import annotations

import functools
import logging
import re
import statistics
import unicodedata
from collections.abc import Callable, Sequence

from edge.speech.reading import vowel_of

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


def chinese_numerals(text: str) -> str:
    """Numbers in Chinese text written in Chinese characters as they are said (15天 → 十五天, 3月 → 三月,
    2026年 → 二零二六年, 300日元 → 三百日元; ``zh_text.spoken_numbers``). cn2an's ``transform``, used
    before, wrote 300日元 as 三零日元 (its date rule read "00日" as a day)."""
    from edge.speech.voices.zh_text import spoken_numbers

    return spoken_numbers(text)


#: num2words' language code per language whose numbers are compared as words.
NUMBER_WORD_LANGUAGES = {"es": "es", "pt": "pt_BR", "en": "en"}
#: The thousands separator of each of those languages (1,000 in English; 1.000 in Spanish, Portuguese).
THOUSANDS_SEPARATORS = {"es": ".", "pt": ".", "en": ","}


@functools.cache
def _number_pattern(separator: str) -> re.Pattern[str]:
    """An integer (digits, or groups of three after a separator) with an optional English ordinal suffix."""
    grouped = rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+(?!\d)"
    return re.compile(rf"(?<!\d)({grouped}|\d+)(st|nd|rd|th)?\b|{grouped}|\d+")


def numbers_as_words(text: str, language: str) -> str:
    """The integers (and English ordinals) of ``text`` written as words in ``language``, as spoken
    (``num2words``; a number with thousands separators is one number: 1,000 → one thousand; languages
    outside ``NUMBER_WORD_LANGUAGES`` unchanged)."""
    code = NUMBER_WORD_LANGUAGES.get(language)
    if code is None:
        return text
    from num2words import num2words

    separator = THOUSANDS_SEPARATORS[language]

    def spell(match: re.Match[str]) -> str:
        number = int((match.group(1) or match.group(0)).replace(separator, ""))
        if match.group(1) and match.group(2) and code == "en":
            return f" {num2words(number, to='ordinal', lang=code)} "
        return f" {num2words(number, lang=code)} {match.group(2) or ''}"

    return _number_pattern(separator).sub(spell, text)


def normalize(text: str, *, keep_spaces: bool = True, language: str | None = None) -> str:
    """NFKC, lower case, no punctuation or symbols, single spaces (none when ``keep_spaces`` is False);
    Chinese (``language`` ``zh``) in simplified characters with its numbers in Chinese numerals; Spanish,
    Portuguese and English numbers as words."""
    text = unicodedata.normalize("NFKC", text).lower()
    if language == "zh":
        text = chinese_numerals(to_simplified(text))
    elif language in NUMBER_WORD_LANGUAGES:
        text = numbers_as_words(text, language)
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
        vowel = vowel_of(ch)
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
