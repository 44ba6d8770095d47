"""Audio in: decoding files (``decode``), the device microphone (``capture``) and voice activity (``vad``).

Imports only ``edge.errors``; everything else in the edge may import it.
"""
