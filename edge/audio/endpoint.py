"""Hands-free end-pointing that waits for the end of a thought.

Silence alone cuts a resident off when they pause to think. ``EndPointer`` combines the VAD's silence
with whether the tentative transcript of the speech so far ends like a finished sentence:

- a short silence (``finished_silence_ms``) ends an utterance whose transcript is a finished sentence;
- an unfinished one (a particle, a conjunctive form, a comma, a dangling "and") waits up to
  ``max_silence_ms``;
- with no fresh transcript yet (the recogniser is still working) it waits too, up to the cap.

``sentence_finished`` is the judgement: for Japanese the sentence-final forms (〜ます, 〜です, 〜ました,
〜ください, ね/よ/か, the plain past) and punctuation from the decoder; for other languages the decoder's
sentence punctuation unless the last word leaves the sentence hanging. A resident can always tap to end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Japanese endings of a finished sentence (after trailing punctuation is removed).
_JA_FINAL = (
    "ます",
    "ました",
    "ません",
    "ませんでした",
    "です",
    "でした",
    "ください",
    "下さい",
    "ましょう",
    "でしょう",
    "ね",
    "よ",
    "か",
    "な",
    "わ",
    "た",
    "だ",
    "ない",
    "はい",
    "いいえ",
    "ええ",
    "どうも",
    "お願いします",
    "ありがとう",
    "すみません",
)
#: Japanese endings that leave the sentence open: particles, conjunctive forms, fillers.
_JA_OPEN = (
    "て",
    "で",
    "が",
    "けど",
    "けれど",
    "けれども",
    "から",
    "ので",
    "のに",
    "し",
    "たり",
    "ながら",
    "ば",
    "と",
    "は",
    "を",
    "に",
    "へ",
    "の",
    "も",
    "や",
    "えーと",
    "えっと",
    "あの",
    "あのー",
    "その",
    "まあ",
)
_JA_DANGLING = re.compile(r"[、，,・…ー〜~]$")
_JA_PUNCT = "。．.！？!?」』）) 　"
#: Words that leave a sentence hanging when they come last (lower case, per language; "*" = any).
_HANGING = {
    "*": {"and", "or", "but", "the", "a", "an", "to", "of", "with", "because", "so", "if", "um", "uh"},
    # An auxiliary or a possessive with nothing after it: the decoder's full stop came with a pause.
    # Short answers end in a negative auxiliary or a particle ("No, I don't.", "I can't.", "Come in."):
    # only the conditional ones stay ("it wouldn't" before a pause rarely ends a sentence).
    "en": {
        "would",
        "wouldn't",
        "could",
        "couldn't",
        "should",
        "my",
        "your",
        "our",
        "their",
        "for",
        "from",
        "at",
    },
    "es": {"y", "o", "pero", "que", "de", "la", "el", "los", "las", "un", "una", "porque", "con", "en"},
    "pt": {"e", "ou", "mas", "que", "de", "do", "da", "o", "a", "um", "uma", "porque", "com", "em"},
    "vi": {"và", "hoặc", "nhưng", "của", "là", "thì", "vì", "với", "để"},
    "id": {"dan", "atau", "tetapi", "yang", "di", "ke", "dari", "karena", "untuk", "dengan"},
    "tl": {"at", "o", "pero", "ng", "sa", "na", "kasi", "dahil", "para"},
    "zh": {"和", "的", "但是", "因为", "所以", "或者", "就是"},
    "ko": {"그리고", "그런데", "하지만", "그래서"},
}
_FINAL_PUNCT = re.compile(r"[.?!。？！]['\"”’)）」』]*$")


def sentence_finished(text: str, language: str) -> bool:
    """True when ``text`` (a tentative transcript) ends like a finished sentence in ``language``."""
    text = text.strip()
    if not text or text.endswith(("...", "…")):
        return False
    if language == "ja":
        return _japanese_finished(text)
    if not _FINAL_PUNCT.search(text):
        return False
    words = re.findall(r"\w+(?:['’]\w+)?", text.lower())
    if not words:
        return False
    if text.rstrip("'\"”’)）」』").endswith(("?", "？")):
        return True  # a question may end in a preposition ("Who is it for?")
    hanging = _HANGING["*"] | _HANGING.get(language, set())
    return words[-1].replace("’", "'") not in hanging


def _japanese_finished(text: str) -> bool:
    if _JA_DANGLING.search(text):
        return False
    core = text.rstrip(_JA_PUNCT)
    if not core or _JA_DANGLING.search(core):
        return False
    if core.endswith(_JA_FINAL):
        return True
    if core.endswith(_JA_OPEN):
        return False
    # Neither a known final form nor an open ending: trust the decoder's own sentence punctuation.
    return core != text.rstrip(" 　") and text.rstrip(" 　")[-1] in "。．.！？!?"


@dataclass(frozen=True)
class EndpointOptions:
    """Hands-free end-of-utterance settings.

    Attributes:
        finished_silence_ms: Silence that ends an utterance whose transcript is a finished sentence (ms).
        max_silence_ms: Silence that ends any utterance (the cap; ms).
        check_after_ms: Silence after which a fresh tentative transcript is requested (ms). It may be
            shorter than the VAD's ``speech_pad_ms``: a partial that lacks only part of the padding after
            the last word heard all the speech, so the final recognition still reuses it.
        use_transcript: False: silence alone (``max_silence_ms``) ends every utterance.
    """

    finished_silence_ms: int = 500
    max_silence_ms: int = 2000
    check_after_ms: int = 100
    use_transcript: bool = True


class EndPointer:
    """Decides, frame by frame, whether the current silence ends the utterance."""

    def __init__(self, options: EndpointOptions = EndpointOptions()) -> None:
        self.options = options

    def should_end(self, silence_ms: float, transcript: str | None, language: str | None) -> bool:
        """True when ``silence_ms`` of silence after speech ends it.

        Args:
            silence_ms: Silence since the last speech frame (ms).
            transcript: Tentative transcript of all the speech before this silence; None when the
                recogniser has not caught up with it yet.
            language: The spoken language (None: unknown, then only the cap ends the utterance).
        """
        if silence_ms >= self.options.max_silence_ms:
            return True
        if not self.options.use_transcript or silence_ms < self.options.finished_silence_ms:
            return False
        if transcript is None or language is None:
            return False
        return sentence_finished(transcript, language)

    def wants_transcript(self, silence_ms: float) -> bool:
        """True when the silence is long enough to ask the recogniser for a fresh transcript."""
        return self.options.use_transcript and silence_ms >= self.options.check_after_ms
