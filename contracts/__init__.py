"""Contracts: what crosses the wire between a counter device and the central server.

``contracts.api`` (the API prefix and paths), ``contracts.fleet`` (heartbeat, usage batches, pack
offers, the glossary envelope: pydantic models both sides build and validate) and ``contracts.usage``
(the closed vocabulary of usage counters). The signed statements are made and checked in
``glossary.signing`` (glossary), ``glossary.pack_signing`` (packs) and ``glossary.rotation`` (keys).

Pydantic only: this package imports nothing of ours, and every other package may import it.
"""

from contracts import api, fleet, usage

__all__ = ["api", "fleet", "usage"]
