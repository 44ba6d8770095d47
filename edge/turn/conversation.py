"""One conversation at the counter, held in memory only.

A conversation is the clerk (Japanese) and one resident. It holds the turns said so far, the resident's
language and whether that language is *locked*: the resident picks their language (or language ID
proposes one from their first utterance and they confirm it), and from then on the pair is fixed until
the conversation ends. Ending it, or ``idle_timeout_s`` without activity, erases everything: nothing of a
conversation is ever written to disk.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from edge.errors import LanguageError
from glossary.languages import RESIDENT_LANGUAGES, STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)

Speaker = Literal["clerk", "resident"]
SPEAKERS: tuple[Speaker, ...] = ("clerk", "resident")


@dataclass
class Turn:
    """One utterance and its translation.

    Attributes:
        turn_id: Id unique within the conversation (``t1``, ``t2``, ...).
        speaker: ``clerk`` or ``resident``.
        kind: ``speech``, ``text`` (typed) or ``phrase`` (from the phrase book, no MT).
        source_language / source_text: What was said, in which language (editable).
        target_language / target_text: The translation for the listener.
        back_translation: ``target_text`` translated back for the speaker (None: not available).
        mt_engine: The engine that translated (``phrasebook`` for phrases).
        terms: Glossary term ids found in the turn.
        phrase_id: The phrase book entry of a ``phrase`` turn.
        edits: How many times the speaker corrected the heard text.
    """

    turn_id: str
    speaker: Speaker
    kind: str
    source_language: str
    source_text: str
    target_language: str
    target_text: str = ""
    back_translation: str | None = None
    mt_engine: str = "none"
    terms: list[str] = field(default_factory=list)
    phrase_id: str | None = None
    edits: int = 0


class Conversation:
    """The state of one conversation (not thread-safe: owned by one connection's event loop)."""

    def __init__(
        self,
        *,
        languages: Iterable[str] = RESIDENT_LANGUAGES,
        idle_timeout_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start an empty conversation.

        Args:
            languages: Resident languages enabled on this counter (ISO 639-1).
            idle_timeout_s: Inactivity after which the conversation is erased (seconds; 0 = never).
            clock: Monotonic clock (seconds), replaceable in tests.
        """
        self.languages = tuple(code for code in languages if code != STAFF_LANGUAGE)
        self.idle_timeout_s = idle_timeout_s
        self._clock = clock
        self.erase()

    # -- lifecycle ------------------------------------------------------------------------------

    def erase(self) -> None:
        """Forget every turn and the language; a new conversation id starts."""
        self.conversation_id = secrets.token_hex(8)
        self.turns: list[Turn] = []
        self.resident_language: str | None = None
        self.locked = False
        self.proposed_language: str | None = None
        self.proposed_probability = 0.0
        self._next_turn = 1
        self.last_activity = self._clock()

    def touch(self) -> None:
        """Record activity (resets the idle timer)."""
        self.last_activity = self._clock()

    def idle_s(self) -> float:
        """Seconds since the last activity."""
        return self._clock() - self.last_activity

    def expired(self) -> bool:
        """True when the idle timeout passed and there is something to erase."""
        if self.idle_timeout_s <= 0:
            return False
        has_content = bool(self.turns) or self.resident_language is not None
        return has_content and self.idle_s() >= self.idle_timeout_s

    @property
    def is_empty(self) -> bool:
        """True when nothing of a resident is held."""
        return not self.turns and self.resident_language is None and self.proposed_language is None

    # -- language ---------------------------------------------------------------------------------

    def set_language(self, code: str) -> None:
        """The resident chose (or confirmed) their language: the pair is locked until the end.

        Raises:
            LanguageError: the language is not enabled, or another language is already locked.
        """
        code = self._check(code)
        if self.locked and code != self.resident_language:
            raise LanguageError(
                "the resident's language is locked for this conversation; end the conversation to change it"
            )
        self.resident_language = code
        self.locked = True
        self.proposed_language = None
        self.touch()

    def propose_language(self, code: str, probability: float) -> None:
        """Language ID heard ``code``: use it for this turn and ask the resident to confirm it."""
        code = self._check(code)
        if self.locked:
            return
        self.resident_language = code
        self.proposed_language = code
        self.proposed_probability = probability

    def pair(self, speaker: Speaker) -> tuple[str | None, str | None]:
        """(source, target) for ``speaker``; None where the resident's language is not known yet."""
        if speaker == "clerk":
            return STAFF_LANGUAGE, self.resident_language
        return (self.resident_language if self.locked else None), STAFF_LANGUAGE

    def _check(self, code: str) -> str:
        norm = code.strip().lower()
        if norm not in self.languages:
            raise LanguageError(
                f"language {code!r} is not enabled at this counter ({', '.join(self.languages)})"
            )
        return norm

    # -- turns ------------------------------------------------------------------------------------

    def new_turn_id(self) -> str:
        """The id of the next turn."""
        turn_id = f"t{self._next_turn}"
        self._next_turn += 1
        return turn_id

    def add(self, turn: Turn) -> Turn:
        """Append a finished turn."""
        self.turns.append(turn)
        self.touch()
        return turn

    def get(self, turn_id: str) -> Turn:
        """The turn with ``turn_id``.

        Raises:
            KeyError: no such turn (erased, or never existed).
        """
        for turn in self.turns:
            if turn.turn_id == turn_id:
                return turn
        raise KeyError(turn_id)

    def snapshot(self) -> dict[str, Any]:
        """The state the UI needs (language, lock, number of turns; no text)."""
        return {
            "conversation_id": self.conversation_id,
            "resident_language": self.resident_language,
            "locked": self.locked,
            "proposed_language": self.proposed_language,
            "turns": len(self.turns),
            "idle_timeout_s": self.idle_timeout_s,
        }
