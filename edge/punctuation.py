"""The punctuation that ends a clause or a sentence, for every splitter of text (voices, MT).

Each set is a string of characters, none of them special inside a regular-expression character class
(``f"[{CLAUSE_MARKS}]"``).
"""

from __future__ import annotations

from typing import Final

#: Marks that end a clause: Latin and full-width comma, semicolon and colon, and the ideographic comma.
CLAUSE_MARKS: Final = ",;:、，；："
#: Full-width marks that end a sentence (Japanese, Chinese): no space follows them.
FULL_WIDTH_STOPS: Final = "。！？"
#: Latin marks that end a sentence when a space follows ("e.g." or "3.5" inside one do not).
LATIN_STOPS: Final = ".!?"
#: The Devanagari danda and double danda, Nepali's full stops.
DANDAS: Final = "।॥"
