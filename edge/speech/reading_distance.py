"""How far a reading is from a set of term readings, in mora edits that weigh what a listener hears.

A plain mora edit distance counts 十民表 → 住民票 (ジュウミンヒョウ, the same) as 0 and 世帯の死 →
世帯主 (ノ for ヌ) as 1. Some differences matter less to the ear and are what a recogniser gets wrong most:

- voicing (ゴ/コ, バ/パ/ハ) and length (a long vowel, ッ) — ``fold`` drops them;
- for longer readings, a consonant with the vowel kept (タスポート/パスポート, モイク量/保育料,
  ランボール/段ボール): Japanese morae keep their vowel far more reliably than their consonant —
  ``vowels`` keeps only the vowel of each mora (and ン).

Voicing and length differences count half: the distance is the mean of the plain edit distance and the
edit distance of the ``fold``-ed forms. The lenient distance (forms of at least ``vowels_from`` morae) also
lets one consonant-only difference count half: the mean with the vowel skeletons' edit distance, but never
below the distance less 0.5. Each mora is encoded as one private-use character so rapidfuzz's Levenshtein
counts morae.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.speech.reading import fold, vowel_of


def vowels(seq: tuple[str, ...]) -> tuple[str, ...]:
    """The vowel skeleton of ``fold(seq)``: each mora's vowel (ン as itself)."""
    return tuple(vowel_of(m) or m for m in fold(seq))


class ReadingDistance:
    """Distances from span readings to fixed readings (a glossary's term forms), built once."""

    def __init__(self, forms: Sequence[tuple[str, ...]], vowels_from: int) -> None:
        """Index ``forms``; a consonant-only difference counts half in forms of ``vowels_from`` morae on."""
        self._alphabet: dict[str, str] = {}
        self.plain = [self.encode(f) for f in forms]
        self.folded = [self.encode(fold(f)) for f in forms]
        self._vowels = [self.encode(vowels(f)) for f in forms]
        self._by_vowel = np.array([len(f) >= vowels_from for f in forms], dtype=bool)

    def encode(self, seq: Sequence[str]) -> str:
        """One character per mora, so a string distance is a mora distance."""
        for m in seq:
            if m not in self._alphabet:
                self._alphabet[m] = chr(0xE000 + len(self._alphabet))
        return "".join(map(self._alphabet.__getitem__, seq))

    def matrix(
        self, readings: Sequence[tuple[str, ...]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Of every reading to every form: the distance, the distance with one consonant-only difference
        counting half (``vowels_from``), the plain edit distance; and the readings ``fold``-ed and
        encoded."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        plain = cdist([self.encode(r) for r in readings], self.plain, scorer=Levenshtein.distance)
        folded_readings = [self.encode(fold(r)) for r in readings]
        folded = cdist(folded_readings, self.folded, scorer=Levenshtein.distance)
        distance = (plain + folded) / 2
        lenient = distance
        if self._by_vowel.any():
            skeletons = [self.encode(vowels(r)) for r in readings]
            by_vowel = (plain + cdist(skeletons, self._vowels, scorer=Levenshtein.distance)) / 2
            lenient = np.where(self._by_vowel[None, :], np.maximum(by_vowel, distance - 0.5), distance)
        return distance, lenient, plain, folded_readings
