"""The tentative transcripts of recognition while speaking (``edge.speech.streaming``): their settings,
the ``Partial`` itself, and how two of them compare (the agreed prefix; whether one heard all the
speech of a later snapshot or of the final audio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.audio.vad import FRAME_SAMPLES
from edge.speech.asr_types import Transcript

_NO_SPACE = ("ja", "zh")
_FRAME_MS = FRAME_SAMPLES * 1000.0 / SAMPLE_RATE
#: A snapshot is past the speech once the VAD heard this much silence after it (a shorter dip is often
#: the closure of a consonant within a word).
_PAST_SPEECH_MS = 2 * _FRAME_MS


@dataclass(frozen=True)
class StreamingOptions:
    """Settings of recognition while speaking.

    Attributes:
        interval_s: Start a new partial decode this long after the previous one started (seconds).
        min_audio_s: No partial before this much audio (seconds).
        min_speech_s: No partial before this much speech (seconds, after silence trimming): Whisper
            hallucinates on a second of sound, and its guard would then decode the full 30 s window.
        idle_stop_s: The worker stops by itself when no new audio arrived for this long (seconds; a
            recording nobody finished or cancelled never keeps decoding).
        margin_chars: Characters dropped from the end of the agreed prefix (they may still change).
        partial_beam: Beam width of partial decodes (None: the recogniser's own, which lets the last
            partial be reused as the final result).
        reuse_final: Reuse the last partial when it heard all the final speech (``heard_the_same``).
        use_prefix: Decode the final window with the stable part as a prefix.
        incremental: Partials too decode with the stable part as a prefix (the committed text only
            grows, and each partial decodes about one interval of new speech).
        chunk_tokens: New tokens per decoder call of a partial (0: one call): a release waits for one
            chunk at most, but each further chunk decodes the tokens before it again, and beam search
            restarted at each chunk keeps only its best hypothesis: measured on FLEURS English, a partial
            in chunks of 8 went astray ("…about the mess and it's just because") where one call heard
            "…about them as dinosaurs because", so partials decode in one call by default.
        stop_at_release: A release stops the running partial after its current step unless it decodes
            the final speech (False: the release waits for the whole partial).
        stop_at_poke: A poke (hands-free: a silence began) stops the running partial after its current
            step unless it decodes the speech heard so far, so the fresh decode starts sooner.
        speculate_pause_s: Translate a finished partial speculatively only when the audio it heard ends
            with at least this much silence after the (padded) speech: the speaker paused, so the partial
            is likely the final text. While they speak on, a speculative translation would be thrown away
            and, being one uninterruptible MT call, could hold up a release (None: always).
    """

    interval_s: float = 1.0
    min_audio_s: float = 1.5
    min_speech_s: float = 1.2
    idle_stop_s: float = 60.0
    margin_chars: int = 2
    partial_beam: int | None = None
    reuse_final: bool = True
    use_prefix: bool = True
    incremental: bool = True
    chunk_tokens: int = 0
    stop_at_release: bool = True
    stop_at_poke: bool = True
    speculate_pause_s: float | None = 0.2


@dataclass
class Partial:
    """One tentative transcript.

    Attributes:
        index: 0, 1, ... within the utterance.
        text: What the audio so far sounds like.
        stable: The part of ``text`` the previous partial agreed on ("" at first).
        language: Spoken language (ISO 639-1).
        language_probability: Whisper's probability of ``language``.
        audio_s: Audio the partial heard (seconds since the utterance started).
        elapsed_ms: How long the decode took (ms).
        finished: ``text`` ends like a finished sentence.
        silence_ms: Silence after the last speech frame of the audio it heard (0: the speech ran on to
            the end of the snapshot; ``edge.audio.vad.trailing_silence_ms``).
    """

    index: int
    text: str
    stable: str
    language: str
    language_probability: float
    audio_s: float
    elapsed_ms: float
    finished: bool
    silence_ms: float = 0.0
    speech: np.ndarray | None = field(default=None, repr=False)
    transcript: Transcript | None = field(default=None, repr=False)
    whisper_translation: Transcript | None = field(default=None, repr=False)

    def to_message(self) -> dict[str, Any]:
        """The protocol fields of a ``transcript_partial``."""
        return {
            "text": self.text,
            "stable": self.stable,
            "language": self.language,
            "index": self.index,
            "audio_s": round(self.audio_s, 2),
            "finished": self.finished,
        }


def agreed_prefix(previous: str, current: str, language: str, margin: int = 2) -> str:
    """The start of ``current`` that ``previous`` agrees on, minus ``margin`` characters, cut back to a
    word boundary (a space; for Japanese and Chinese also 、。！？): the decoder must never be forced to
    continue half a word ("テスト分で|す" would be continued as if "で" were a particle), so without such a
    boundary nothing is stable yet."""
    n = 0
    for a, b in zip(previous, current, strict=False):
        if a != b:
            break
        n += 1
    if n >= len(current) and n >= len(previous):
        n = len(current)  # identical: the whole text is stable except the margin
    n = max(0, n - margin)
    prefix = current[:n]
    if n < len(current) and not current[n].isspace():
        boundary = " 、。，,！？!?" if language in _NO_SPACE else " "
        cut = max(prefix.rfind(ch) for ch in boundary)
        prefix = prefix[: cut + (0 if prefix[cut] == " " else 1)] if cut > 0 else ""
    return prefix.strip()


def ends_in_speech(silence_ms: float) -> bool:
    """True when a snapshot whose last speech frame is ``silence_ms`` before its end may still end in
    speech (a shorter dip is often the closure of a consonant within a word)."""
    return silence_ms < _PAST_SPEECH_MS


def heard_the_same(
    partial: np.ndarray | None, speech: np.ndarray | None, pad_ms: float, silence_ms: float = 0.0
) -> bool:
    """True when a partial that decoded ``partial`` heard all of ``speech`` (both trimmed by the VAD):
    they are equal, or the partial's snapshot already ended ``silence_ms`` after the last speech frame
    and ``speech`` only adds the rest of the VAD's ``pad_ms`` of padding after it. A snapshot taken
    while the speech ran (the VAD's region then runs to its end, without pad) must be equal: the samples
    it lacks may be speech."""
    if partial is None or speech is None or partial.size > speech.size:
        return False
    extra_ms = (speech.size - partial.size) * 1000.0 / SAMPLE_RATE
    if extra_ms and (ends_in_speech(silence_ms) or extra_ms > pad_ms - silence_ms + _FRAME_MS):
        return False
    return bool(np.array_equal(speech[: partial.size], partial))
