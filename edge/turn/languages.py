"""Which languages a turn accepts: the counter's enabled languages, ``auto`` (language ID) and ``ja-easy``."""

from __future__ import annotations

from collections.abc import Sequence

from edge.errors import LanguageError
from glossary.languages import COUNTER_LANGUAGES, EASY_JAPANESE, STAFF_LANGUAGE

#: The source that lets language ID choose among the enabled languages.
AUTO = "auto"


def check_language(code: str, role: str, enabled: Sequence[str], *, allow_auto: bool = False) -> str:
    """The normalised language code of a turn's ``role`` (``source`` or ``target``).

    A resident who chose ``ja-easy`` speaks Japanese, so as a source it is ``ja``.

    Raises:
        LanguageError: the code is unknown, or not enabled on this counter.
    """
    norm = code.strip().lower().replace("_", "-")
    if allow_auto and norm == AUTO:
        return AUTO
    if norm == EASY_JAPANESE:  # a target; a resident who chose it speaks Japanese
        return norm if role == "target" else STAFF_LANGUAGE
    if norm not in COUNTER_LANGUAGES:
        valid = ", ".join((AUTO, *COUNTER_LANGUAGES) if allow_auto else COUNTER_LANGUAGES)
        raise LanguageError(f"unknown {role} language {code!r}; use one of: {valid}")
    if norm not in enabled:
        raise LanguageError(
            f"{role} language {norm!r} is not enabled on this counter "
            f"(enabled: {', '.join(enabled)}; set MADOGUCHI_LANGUAGES)"
        )
    return norm
