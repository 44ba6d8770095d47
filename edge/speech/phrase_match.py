"""The spoken phrase book: an utterance that *is* a phrase-book sentence gets its verified translation.

Clerks say the same sentences all day ("もう一度言ってください。"). When the recognised Japanese reads
like a phrase of the phrase book — mora-level similarity of the readings (``edge.speech.reading``) at or above
``threshold``, and the same last ``TAIL_MORAE`` morae (です is not ですか) — the counter serves the
phrase's verified translation instead of machine translation,
marked ✔. Readings, not characters, are compared, so recognition errors that sound right (分 for 文,
かな for 漢字) still match. Below the threshold nothing changes.

The default threshold was chosen on data (``madoguchi bench terms``, ``bench.term_bench.phrase_threshold``):
synthetic speech of all 155 phrases and of 454 counter and look-alike sentences that are not phrases,
recognised by Whisper base and term-corrected. Over two runs the most phrase-like non-phrase scored
0.90 and 0.931; the threshold is 0.95, which served the verified translation for 66 of the 155 spoken
phrases in the second run, every one the right phrase.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from edge.speech.reading import reading

_LOGGER = logging.getLogger(__name__)

#: Mora similarity (1 - normalised Levenshtein distance) at which an utterance is a phrase.
DEFAULT_THRESHOLD: Final = 0.95
#: A sentence's reading must be at least this long to be matched (morae): short ones collide.
MIN_MORAE: Final = 6
#: The last morae must agree exactly: Japanese puts question and negation at the end (です/ですか).
TAIL_MORAE: Final = 3


@dataclass(frozen=True)
class PhraseHit:
    """The phrase an utterance matched and how closely (similarity 0..1)."""

    phrase_id: str
    ja: str
    similarity: float
    elapsed_ms: float
    tail_ok: bool = True
    """The last ``TAIL_MORAE`` morae agree."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"phrase_id": self.phrase_id, "ja": self.ja, "similarity": round(self.similarity, 3)}


class PhraseMatcher:
    """Finds the phrase-book sentence an utterance reads like (built once per phrase book)."""

    def __init__(self, glossary: Any, threshold: float = DEFAULT_THRESHOLD, *, reviewed_only: bool = False):
        """Read every phrase of ``glossary`` once (≈ 1 ms a phrase)."""
        self.threshold = threshold
        self._alphabet: dict[str, str] = {}
        self._phrases: list[tuple[str, str, str]] = []  # (id, ja, encoded reading)
        self._translations: dict[str, dict[str, str]] = {}
        for phrase in getattr(glossary, "phrases", {}).values():
            if reviewed_only and not phrase.reviewed:
                continue
            self._translations[phrase.id] = {**phrase.translations, "ja-easy": phrase.easy_ja}
            morae = reading(phrase.ja)
            if len(morae) >= MIN_MORAE:
                self._phrases.append((phrase.id, phrase.ja, self._encode(morae)))

    def __len__(self) -> int:
        return len(self._phrases)

    def _encode(self, morae: tuple[str, ...]) -> str:
        return "".join(self._alphabet.setdefault(m, chr(0xE000 + len(self._alphabet))) for m in morae)

    def best(self, text: str) -> PhraseHit | None:
        """The closest phrase with its similarity, whatever it is (None: no phrases or no reading)."""
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import cdist

        started = time.perf_counter()
        morae = reading(text) if text else ()
        if len(morae) < MIN_MORAE or not self._phrases:
            return None
        query = "".join(self._alphabet.get(m, "\uffff") for m in morae)
        scores = cdist([query], [p[2] for p in self._phrases], scorer=Levenshtein.normalized_similarity)[0]
        index = int(np.argmax(scores))
        phrase_id, ja, code = self._phrases[index]
        tail_ok = query[-TAIL_MORAE:] == code[-TAIL_MORAE:]
        elapsed = (time.perf_counter() - started) * 1000
        return PhraseHit(phrase_id, ja, float(scores[index]), elapsed, tail_ok)

    def translation(self, phrase_id: str, language: str) -> str:
        """The verified translation of a phrase into ``language`` ("" when there is none)."""
        return self._translations.get(phrase_id, {}).get(language, "")

    def match(self, text: str) -> PhraseHit | None:
        """The phrase ``text`` reads like, when its similarity reaches ``threshold``; else None."""
        hit = self.best(text)
        return hit if hit is not None and hit.tail_ok and hit.similarity >= self.threshold else None
