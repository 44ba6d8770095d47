"""madoguchi: offline speech translation for the counters of Japanese city halls.

This small package only holds the version and the one ``madoguchi`` command, which gathers the
subcommands of ``edge``, ``models``, ``glossary``, ``server`` and ``bench``. Each of those packages
owns its own ``cli.py``; the root imports them lazily so that a central server never loads the
speech runtimes and a counter device never loads the server.
"""

import os

# The official onnxruntime wheels (used by Silero VAD and Piper) ship Microsoft's 1DS telemetry, on by
# default on Linux: it resolves mobile.events.data.microsoft.com and keeps a device id under
# ~/.cache/Microsoft. Nothing may leave a counter, so it is off unless someone explicitly turns it on.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"

__all__ = ["__version__"]
