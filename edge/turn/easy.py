"""The Easy Japanese stage of a turn (target ``ja-easy``): no MT, the clerk's Japanese rewritten.

``edge.easy_ja`` rewrites the text; the result carries ``ruby_html`` (escaped HTML with furigana) and
``readings``, which the voice follows, so it says ついたち where the furigana say ついたち
(``mt_engine == "easy-ja"``). A resident who chose ``ja-easy`` speaks Japanese. With
``EdgeSettings.pre_edit_easy_ja`` MT translates the simplified Japanese instead of the original.
Without SudachiPy there is no ``ja-easy`` target: the turn shows a notice naming what to install.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.errors import EdgeError
from edge.speech.tts import ReadingSegment
from edge.turn.result import TurnContext
from glossary.languages import STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)


def load_easy_japanese() -> Any | None:
    """The Easy Japanese rewriter, or None when SudachiPy is not installed (no ``ja-easy`` target)."""
    try:
        from edge.easy_ja import default_easy_japanese

        return default_easy_japanese()
    except (ImportError, EdgeError) as exc:
        _LOGGER.warning("Easy Japanese unavailable: %s", exc)
        return None


def rewrite(ctx: TurnContext, easy: Any | None) -> None:
    """Rewrite the clerk's Japanese into Easy Japanese, with furigana (no MT)."""
    result = ctx.result
    if easy is None:
        result.target_text, result.mt_engine = "", "none"
        ctx.notice("Easy Japanese needs SudachiPy: pip install 'madoguchi[edge]'", "easy_ja")
        return
    if result.source_language != STAFF_LANGUAGE:
        result.target_text, result.mt_engine = "", "none"
        ctx.notice("Easy Japanese rewrites Japanese only; speak Japanese", "easy_ja")
        return
    rewritten = easy.rewrite(result.source_text)
    result.target_text, result.mt_engine = rewritten.text, "easy-ja"
    result.ruby_html = rewritten.ruby_html
    result.readings = tuple((segment.text, segment.reading) for segment in rewritten.segments)
    result.terms_applied = [t.term_id for t in rewritten.terms]
    result.easy_ja = {
        "rules_fired": list(rewritten.rules_fired),
        "unsimplified": rewritten.unsimplified,
        "sentences": [s.to_dict() for s in rewritten.sentences],
    }
    if rewritten.unsimplified:
        text = "some sentences were kept as said: simplifying them could change the meaning"
        ctx.notice(text, "easy_ja_unsimplified")


def readings(easy: Any | None, text: str) -> tuple[ReadingSegment, ...] | None:
    """The furigana of ``text`` as (piece, reading) pairs (None without the analyser or text)."""
    if easy is None or not text:
        return None
    return tuple((segment.text, segment.reading) for segment in easy.furigana(text).segments)
