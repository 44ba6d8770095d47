"""Speech engines: recognition (``asr``, faster-whisper) and voices (``tts``).

Imports ``edge.audio.decode`` and ``edge.errors``; never the turn, the counter or sync.
"""
