"""One conversation turn: audio in → text → terms → translation → speech out (``pipeline``), its typed
events (``events``) and the conversation's state (``conversation``).

Imports ``edge.audio``, ``edge.speech``, ``edge.translate``, ``glossary``; never the counter or sync.
"""
