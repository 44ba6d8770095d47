"""Forced decoding: how likely Whisper finds given texts as the transcript of an utterance it encoded.

CTranslate2's ``Whisper.align`` runs the decoder over ``start sequence + <|notimestamps|> + text + <|eot|>``
on an encoder output and returns each text token's probability (a softmax over the text vocabulary), as
faster-whisper's ``find_alignment`` uses it for word timestamps. Scoring several texts of one utterance
is one batched call: the encoder output (batch 1) is repeated once per text, as ``align`` needs one
memory row per text; the encoder is never run again. A text's score is the sum of its tokens' log
probabilities (nats) with its token count, so callers can compare summed or per-token scores.

Only the speech and ``TRAILING_S`` of the silence after it are kept of the encoder window: projecting the
decoder's cross-attention keys and values of every memory row for every text is most of the cost, and
on the tune half of the term-speech set the trimmed window accepted as many right candidates (recall
81.5 against 81.1 % untrimmed, no false hit either way).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Seconds of the encoder window kept after the speech (Whisper needs some silence after it).
TRAILING_S = 1.5
#: Encoder output frames per second (the encoder's second convolution halves the 100 mel frames/s).
_ENCODED_PER_S = 50

#: Probability floor before the logarithm (a token the model finds impossible still gets a finite score).
_FLOOR = 1e-12


@dataclass(frozen=True)
class TextScore:
    """A text's forced-decoding score: summed token log-probability (nats) and token count."""

    log_prob: float
    tokens: int

    @property
    def mean(self) -> float:
        """Mean log-probability per token (nats; -inf for an empty text)."""
        return self.log_prob / self.tokens if self.tokens else -math.inf


def score_texts(
    model: Any, encoder_output: Any, tokenizer: Any, texts: Sequence[str], num_frames: int
) -> list[TextScore]:
    """Score ``texts`` as transcripts of the utterance behind ``encoder_output`` (one ``align`` call).

    Args:
        model: A ``ctranslate2.models.Whisper``.
        encoder_output: Its ``encode`` output for the utterance (a ``StorageView`` of batch 1).
        tokenizer: faster-whisper's ``Tokenizer`` for the utterance's language and task.
        texts: The candidate transcripts (tokenised without a leading space, as Whisper writes Japanese).
        num_frames: Mel frames holding speech (100 per second; the memory after ``TRAILING_S`` of padding
            is left out).
    """
    import ctranslate2

    if not texts:
        return []
    tokens = [tokenizer.encode(text) for text in texts]
    memory = np.asarray(encoder_output)
    kept = min(memory.shape[1], int(num_frames) // 2 + int(TRAILING_S * _ENCODED_PER_S))
    memory = memory[:, :kept]
    batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(memory, len(texts), axis=0)))
    frames = max(2, min(int(num_frames), kept * 2))
    results = model.align(batch, list(tokenizer.sot_sequence), tokens, [frames] * len(texts))
    scores: list[TextScore] = []
    for ids, result in zip(tokens, results, strict=True):
        probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), _FLOOR)
        scores.append(TextScore(float(np.log(probs).sum()), len(ids)))
    return scores
