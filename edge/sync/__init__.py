"""Talking to the central server: enrollment and glossary pulls (``client``), the usage outbox
(``outbox``) and model-pack distribution (``packs``).

Imports ``glossary``, ``models`` and ``edge.errors``; never the turn or the counter.
"""
