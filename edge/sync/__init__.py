"""Talking to the central server: enrollment (``enrollment``), glossary pulls, usage and heartbeats
(``client``), the signed glossary on disk (``glossary_store``), the usage outbox (``outbox``) and
model-pack distribution (``packs``).

Imports ``glossary``, ``models`` and ``edge.errors``; never the turn or the counter.
"""
