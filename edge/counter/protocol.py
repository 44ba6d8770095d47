"""The counter's WebSocket protocol: message schema, parsing and validation (version 2).

Client → server, JSON text frames ``{"type": ..., ...}``:
    hello            {protocol: 2}                  optional; versions 1 and 2 are accepted, others refused
    start            {speaker: "clerk"|"resident", mode: "ptt"|"handsfree", sample_rate: 16000,
                      source: "browser"|"device", device: int|str|null}
                                                    open the microphone for one speaker (``device``: the
                                                    device microphone, a PortAudio index or name part)
    stop             {}                             push-to-talk released / hands-free off
    end_utterance    {}                             hands-free: the speaker tapped "done" (end it now)
    set_language     {language}                     the resident chose or confirmed: locks the pair
    edit             {turn_id, text}                correct what was heard → re-translate, re-speak
    phrase           {phrase_id}                    a phrase book sentence (no MT)
    text             {speaker, text}                a typed turn
    speak            {turn_id}                      "OK, speak": speak a turn held for confirmation
    playback         {playing: bool}                the page is (not) playing speech: mic muted
    clerk_voice      {on: bool}                     speak the resident's replies to the clerk in Japanese
    end_conversation {}                             erase everything now
Client → server, binary frames: 16 kHz mono int16 little-endian PCM (after ``start``; at most
    ``max_frame_bytes`` each, an even number of bytes).

Server → client, JSON text frames:
    hello            {protocol, version, sample_rate, max_frame_bytes, confirm_before_speaking,
                      glossary_version, speak_to_clerk}
    state            {conversation_id, resident_language, locked, proposed_language, turns,
                      recording: {speaker, mode, source} | null, busy, idle_timeout_s}
    vad              {event: "speech_started"|"speech_stopped"}    hands-free end-pointing
    transcript_partial {speaker, text, stable, language, index, audio_s, finished}
                     a tentative transcript of the speech so far, while the speaker speaks (the page
                     shows it greyed); ``stable``: the start of ``text`` that will not change
    turn_started     {turn_id, speaker, kind}
    transcript       {turn_id, speaker, text, language, terms, term_info, kind, ruby_html, corrections,
                      recognised_text}
                     ruby_html: Japanese only, escaped HTML with <ruby> furigana (the page's toggle)
                     corrections (spoken turns): glossary terms put in by reading, [{term_id, start, end,
                     original, replacement, distance}] (offsets into text); the page underlines them and
                     undoes one by sending an edit with ``original`` restored
    translation      {turn_id, speaker, text, language, engine, terms, term_info, flagged, ruby_html,
                      awaiting_confirm, verified}
                     verified: {phrase_id, ja, similarity} when the utterance read like a phrase-book
                     sentence and its verified translation was served (engine phrasebook), else null
                     ruby_html: target ja-easy only, escaped HTML with <ruby> furigana (else null);
                     awaiting_confirm: true when the counter confirms before speaking and a voice exists;
                     maybe_cut (optional): true when MT reached the model's maximum length
    back_translation {turn_id, speaker, available, text, language, reason}
    speech_audio     {turn_id, index, is_last, sample_rate, wav_base64}   one sentence, WAV, sent as soon
                     as it is synthesised (``is_last`` is always false: the end is ``speech_end``)
    speech_end       {turn_id, chunks}              the turn's speech is complete (``chunks`` sent)
    turn_end         {turn_id, speaker, engine, timings_ms}
    glossary         {version, source}              a newer glossary is in use (marks, phrases, MT)
    notice           {text, code, turn_id?}         a fallback or information (missing voice, MT, ...)
    error            {text, code, turn_id?}         a refused message or a failed turn
    conversation_ended {reason: "ended"|"idle"}     the page clears everything it shows
``terms`` are spans ``{start, end, term_id}`` of ``text`` in Unicode code points (as Python counts);
``term_info`` maps each term id to ``{ja, reading, translation, translations, easy_ja, explanation_en,
reviewed}``. A phrase turn's ``translation`` adds ``phrase_id`` and ``reviewed``; a spoken turn's
``transcript`` adds ``language_probability``. A malformed, unknown or oversized message gets an ``error``
and the connection stays usable; one turn runs at a time per connection (``busy``), and the page stops
sending audio while it plays speech.

The messages are typed: ``edge.counter.requests`` parses the page's (``parse_request``),
``edge.counter.messages`` holds the counter's (``ServerMessage.to_json``).

Version history: 1 held each sentence back until the next was synthesised (to set ``is_last``);
2 streams sentences, ends speech with ``speech_end``, adds ``speak``, ``glossary`` and ``device``.
"""

from __future__ import annotations

import base64
import io
import logging
import wave
from typing import Final

from edge.errors import EdgeError
from glossary.languages import STAFF_LANGUAGE

_LOGGER = logging.getLogger(__name__)

PROTOCOL_VERSION: Final = 2
SUPPORTED_PROTOCOLS: Final = (1, 2)
MODES: Final = ("ptt", "handsfree")
SOURCES: Final = ("browser", "device")
CLIENT_MESSAGES: Final = (
    "hello",
    "start",
    "stop",
    "end_utterance",
    "set_language",
    "edit",
    "phrase",
    "text",
    "speak",
    "playback",
    "clerk_voice",
    "end_conversation",
)


class ProtocolError(EdgeError):
    """A client message the counter cannot accept (the connection stays usable)."""

    code = "protocol"


def wav_base64(pcm: bytes, sample_rate: int) -> str:
    """Mono int16 PCM as a base64 WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def ruby_html(text: str, language: str) -> str | None:
    """Furigana as escaped ruby HTML for Japanese text (``ja``, or a phrase-book ``ja-easy`` sentence
    used as written); None for other languages or when SudachiPy is missing."""
    if language not in (STAFF_LANGUAGE, "ja-easy") or not text:
        return None
    try:
        from edge.easy_ja import default_easy_japanese

        return str(default_easy_japanese().furigana(text).ruby_html)
    except (ImportError, EdgeError) as exc:
        _LOGGER.debug("no furigana: %s", exc)
        return None
