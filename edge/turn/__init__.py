"""One conversation turn: audio in → text → terms → translation → speech out (``pipeline``), and the
conversation's state (``conversation``). Its typed events are ``edge.events``.

Imports ``edge.audio.decode``, ``edge.speech``, ``edge.translate``, ``edge.engines``, ``glossary``; never the
counter or sync.
"""
