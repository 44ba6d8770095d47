"""Speech engines: recognition (``asr``, faster-whisper) and voices (``tts`` with Piper and the ABC;
``voices`` with OpenJTalk, Kokoro and espeak-ng, one engine per voice pack).

Imports ``edge.audio.decode`` and ``edge.errors``; never the turn, the counter or sync.
"""
