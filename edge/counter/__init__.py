"""The counter web app: the FastAPI app (``app``), its launcher (``run``), the conversation session and
turns, the WebSocket protocol, tablet pairing, TLS, and the phrase book screen texts.

Imports ``edge.turn`` and below, and ``edge.sync.client``; nothing in the edge imports the counter.
"""
