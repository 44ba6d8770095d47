"""Speech engines: recognition (``asr``, faster-whisper, behind the ``asr_types`` interface; ``asr_window``
its short-window decoding and retries) and voices (``tts`` with Piper and the ABC; ``voices`` with
OpenJTalk, Kokoro and espeak-ng, one engine per voice pack), and what makes recognition safe and
glossary-aware: loop detection (``repetition``), readings (``reading``, OpenJTalk), term correction /
hotwords / rescoring (``terms``) and the spoken phrase book (``phrase_match``).

Imports ``edge.audio.decode``, ``edge.errors``, ``edge.punctuation`` and the ``glossary`` package; never
the turn, the counter or sync.
"""
