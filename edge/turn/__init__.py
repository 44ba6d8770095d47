"""One conversation turn as a small pipeline of stages, and the conversation's state (``conversation``).

``pipeline.TurnPipeline`` runs audio in → ``transcribe`` (VAD, ASR) → ``terms`` (reading correction,
phrase book) → ``translate`` (MT routes, pivot, Whisper's translation, back-translation) or ``easy``
(Easy Japanese) → ``speak`` (voices), each stage filling one ``result.TurnResult``; ``load`` loads the
engines once, ``languages`` checks a turn's languages. Its typed events are ``edge.events``.

Imports ``edge.audio``, ``edge.speech``, ``edge.translate``, ``edge.engines``, ``glossary``; never the
counter or sync.
"""
