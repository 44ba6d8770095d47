"""The Japanese analyser behind Easy Japanese: SudachiPy with the core dictionary, loaded once.

Why SudachiPy + sudachidict-core rather than fugashi + unidic-lite:

- **Split modes.** Mode C keeps compounds whole (住民票, 身分証明書), which is what a paraphrase
  dictionary keys on; mode A splits them when a reading must be aligned piece by piece.
- **Normalised forms.** ``normalized_form()`` folds spelling variants (申込み/申し込み → 申し込む,
  下さい → 下さる), so one paraphrase entry covers every spelling a clerk or an ASR engine produces.
- **Readings and inflection info** on every morpheme (reading_form, dictionary_form, conjugation type
  and form in the part of speech), enough to re-conjugate a replacement verb.
- **A maintained dictionary** (sudachidict-core, Apache-2.0, rebuilt regularly from current Japanese)
  shipped as an ordinary PyPI wheel; unidic-lite is a frozen 2013 UniDic snapshot.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from typing import Any

from edge.errors import EngineUnavailable
from glossary.kana import to_hiragana

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Morpheme:
    """One word of analysed text, at its offsets in the analysed string."""

    surface: str
    start: int
    end: int
    reading: str
    """Hiragana reading of the surface."""
    dictionary_form: str
    normalized_form: str
    pos: tuple[str, ...]
    """Six part-of-speech fields; [4] is the conjugation type, [5] the conjugation form."""

    @property
    def is_verb(self) -> bool:
        """True for a verb (動詞)."""
        return self.pos[0] == "動詞"

    @property
    def conj_type(self) -> str:
        """The conjugation type (活用型), e.g. ``五段-カ行``."""
        return self.pos[4]

    @property
    def conj_form(self) -> str:
        """The conjugation form (活用形), e.g. ``連用形-一般``."""
        return self.pos[5]

    @property
    def is_suru_noun(self) -> bool:
        """True for a noun that takes する (サ変可能)."""
        return self.pos[0] == "名詞" and self.pos[2] == "サ変可能"


class Analyzer:
    """A thread-safe SudachiPy tokenizer (one dictionary per process)."""

    def __init__(self) -> None:
        try:
            from sudachipy import Dictionary, SplitMode
        except ImportError as exc:  # pragma: no cover - the edge extra pins it
            raise EngineUnavailable("Easy Japanese needs SudachiPy: pip install 'madoguchi[edge]'") from exc
        try:
            self._dictionary = Dictionary(dict="core")
        except Exception as exc:
            raise EngineUnavailable(
                "Easy Japanese needs the Sudachi core dictionary: pip install 'madoguchi[edge]'"
            ) from exc
        self._modes = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}
        self._local = threading.local()
        _LOGGER.info("Sudachi core dictionary loaded")

    def _tokenizer(self) -> Any:
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._dictionary.tokenizer()
            self._local.tokenizer = tok
        return tok

    def tokenize(self, text: str, mode: str = "C") -> list[Morpheme]:
        """Analyse ``text``; offsets refer to ``text``."""
        if not text:
            return []
        out: list[Morpheme] = []
        for m in self._tokenizer().tokenize(text, self._modes[mode]):
            out.append(
                Morpheme(
                    surface=m.surface(),
                    start=m.begin(),
                    end=m.end(),
                    reading=to_hiragana(m.reading_form()),
                    dictionary_form=m.dictionary_form(),
                    normalized_form=m.normalized_form(),
                    pos=tuple(m.part_of_speech()),
                )
            )
        return out


@functools.lru_cache(maxsize=1)
def shared_analyzer() -> Analyzer:
    """The process-wide analyser (the dictionary is loaded on first use, then kept)."""
    return Analyzer()
