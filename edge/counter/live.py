"""Recognition while speaking at the counter: tentative transcripts and hands-free end-pointing.

``LiveRecognition`` belongs to one connection. While push-to-talk is held, or while hands-free hears
speech, it runs a ``StreamingRecognizer`` (``edge.streaming``) on the audio so far, in a worker thread,
and sends each tentative transcript as ``transcript_partial`` (the page shows it greyed on the speaker's
side). At release the running recogniser is handed to the turn, whose final decode reuses its work.
In hands-free mode it also decides when an utterance ends (``edge.endpoint``): a short silence after a
finished sentence, a longer one after an unfinished sentence, and a tap (``end_utterance``) at any time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from edge.audio.endpoint import EndPointer, EndpointOptions
from edge.audio.vad import Segmenter, SegmenterOutput, Utterance, VadOptions
from edge.counter.messages import TranscriptPartial
from edge.events import SpeechStarted
from edge.speech.streaming import PartialRunner, StreamingOptions, StreamingRecognizer

Snapshot = Callable[[], np.ndarray]


class LiveRecognition:
    """The tentative recognition of one connection's current recording."""

    def __init__(
        self,
        pipeline: Any | None,
        send_threadsafe: Callable[[TranscriptPartial], None],
        *,
        enabled: bool = True,
        streaming: StreamingOptions = StreamingOptions(),
        endpoint: EndpointOptions = EndpointOptions(),
    ) -> None:
        self.pipeline = pipeline
        self.enabled = enabled
        self.streaming = streaming
        self.endpointer = EndPointer(endpoint)
        self._send = send_threadsafe
        self._lock = threading.Lock()  # begin/push run in a worker thread, take/cancel on the event loop
        self._recognizer: StreamingRecognizer | None = None
        self._poked = False
        self._pair: tuple[str, str | None, str | None] = ("clerk", None, None)

    @property
    def active(self) -> bool:
        """True while a recogniser runs."""
        return self._recognizer is not None

    def segmenter(self, vad: VadOptions) -> Segmenter:
        """The hands-free segmenter: silence alone ends an utterance only at the end-pointer's cap."""
        if self._uses_transcript():
            vad = replace(vad, min_silence_ms=self.endpointer.options.max_silence_ms)
        return Segmenter(vad)

    def begin(
        self,
        speaker: str,
        source: str | None,
        target: str | None,
        snapshot: Snapshot,
        live_vad: Callable[[], tuple[np.ndarray, float]] | None = None,
    ) -> None:
        """Start recognising the recording that ``snapshot`` returns (a no-op without a recogniser);
        ``live_vad``: hands-free's ``Segmenter.snapshot`` (``StreamingRecognizer``)."""
        self.cancel()
        self._pair = (speaker, source, target)
        transcriber = getattr(self.pipeline, "transcriber", None)
        if not self.enabled or transcriber is None:
            return
        router = getattr(self.pipeline, "mt_router", None)
        translate_to = (router, target) if target and target != "ja-easy" else None
        runner = PartialRunner(
            transcriber,
            None if source in (None, "auto") else source,
            options=self.streaming,
            vad_options=getattr(self.pipeline, "vad_options", VadOptions()),
            translate_to=translate_to,
        )

        def on_partial(partial: Any) -> None:
            self._send(TranscriptPartial(speaker=speaker, **partial.to_message()))

        recognizer = StreamingRecognizer(runner, snapshot, on_partial, live_vad=live_vad)
        with self._lock:
            previous, self._recognizer = self._recognizer, recognizer
            self._poked = False
        if previous is not None:
            previous.cancel()
        recognizer.start()

    def take(self) -> StreamingRecognizer | None:
        """Hand the running recogniser to the turn (which calls ``finish`` in a worker thread)."""
        with self._lock:
            recognizer, self._recognizer = self._recognizer, None
        return recognizer

    def cancel(self) -> None:
        """Stop and forget the current recognition (recording abandoned or conversation ended)."""
        with self._lock:
            recognizer, self._recognizer = self._recognizer, None
        if recognizer is not None:
            recognizer.cancel()

    def forget(self) -> None:
        """The conversation ended: stop recognising and drop the recogniser's held encoder output."""
        self.cancel()
        transcriber = getattr(self.pipeline, "transcriber", None)
        if transcriber is not None:
            transcriber.release()

    def push(self, segmenter: Segmenter, samples: np.ndarray) -> list[SegmenterOutput]:
        """Hands-free: feed ``samples`` and end the utterance when the end-pointer says so."""
        outputs = segmenter.push(samples)
        speaker, source, target = self._pair
        for item in outputs:
            if isinstance(item, SpeechStarted):
                self.begin(speaker, source, target, segmenter.current_audio, segmenter.snapshot)
        if not segmenter.in_speech or any(isinstance(item, Utterance) for item in outputs):
            return outputs
        silence = segmenter.silence_ms
        if silence <= 0:
            self._poked = False
            return outputs
        recognizer = self._recognizer
        if recognizer is not None and not self._poked and self.endpointer.wants_transcript(silence):
            recognizer.poke()
            self._poked = True
        text, language = self._covering(segmenter)
        if self.endpointer.should_end(silence, text, language):
            outputs.extend(segmenter.end_now())
        return outputs

    def set_pair(self, speaker: str, source: str | None, target: str | None) -> None:
        """The speaker and languages of the hands-free recording."""
        self._pair = (speaker, source, target)

    def _uses_transcript(self) -> bool:
        return (
            self.enabled
            and self.endpointer.options.use_transcript
            and getattr(self.pipeline, "transcriber", None) is not None
        )

    def _covering(self, segmenter: Segmenter) -> tuple[str | None, str | None]:
        """The newest tentative transcript if it heard all the speech before the current silence."""
        latest = self._recognizer.latest if self._recognizer is not None else None
        if latest is None or latest.audio_s * 1000.0 + 40.0 < segmenter.heard_ms:
            return None, None
        return latest.text, latest.language
