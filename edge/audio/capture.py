"""The device's own microphone (sounddevice / PortAudio): choose a device, feed frames, survive unplugging.

``MicrophoneCapture`` reads blocks from an input stream in a background thread and hands 16 kHz mono
float32 frames to a callback. When the device disappears (a USB microphone unplugged, PortAudio
errors), the callback gets an ``AudioDeviceError`` once and the capture polls for the device every
``poll_interval_s``; when it can open a stream again, it says so and carries on. While ``muted`` (the
device is speaking its translation), frames are read and dropped so the counter never translates itself.

The stream is anything with the blocking part of ``sounddevice.InputStream``'s interface: ``start()``,
``read(frames) -> (ndarray, overflowed)``, ``stop()``, ``close()`` and ``samplerate``.
``FileInputStream`` is such a stream over a WAV file or an array, for tests and demos, and can be
"unplugged" and "replugged" like a real device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from edge.audio.decode import SAMPLE_RATE
from edge.errors import AudioDeviceError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureOptions:
    """How to open the microphone.

    Attributes:
        device: PortAudio device index or a substring of its name (None = the system default input).
        block_ms: Frames read per block (milliseconds).
        poll_interval_s: Delay between attempts to reopen a lost device (seconds).
    """

    device: int | str | None = None
    block_ms: int = 32
    poll_interval_s: float = 1.0


class InputStreamLike(Protocol):
    """The blocking subset of ``sounddevice.InputStream`` the capture uses."""

    samplerate: float

    def start(self) -> None: ...

    def read(self, frames: int) -> tuple[np.ndarray, bool]: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


StreamFactory = Callable[[CaptureOptions], InputStreamLike]
FramesHandler = Callable[[np.ndarray], None]
StatusHandler = Callable[[str, AudioDeviceError | None], None]


def list_input_devices() -> list[dict[str, Any]]:
    """Input devices PortAudio knows: index, name, channels, default sample rate.

    Raises:
        AudioDeviceError: PortAudio is not available.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except Exception as exc:  # PortAudioError or OSError from the library
        raise AudioDeviceError(f"cannot list audio devices: {exc}") from exc
    return [
        {
            "index": index,
            "name": str(dev["name"]),
            "channels": int(dev["max_input_channels"]),
            "default_samplerate": float(dev["default_samplerate"]),
        }
        for index, dev in enumerate(devices)
        if int(dev["max_input_channels"]) > 0
    ]


def sounddevice_stream(options: CaptureOptions) -> InputStreamLike:
    """Open a real microphone at 16 kHz (or its own rate when it refuses 16 kHz; the capture resamples).

    Raises:
        AudioDeviceError: no such device, or it cannot be opened.
    """
    sd = _sounddevice()
    try:
        # PortAudio keeps the device list of its initialisation; re-init to see a replugged device.
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # a failed re-init shows up below as an open failure
        _LOGGER.debug("PortAudio re-init failed: %s", exc)
    last: Exception | None = None
    for rate in (SAMPLE_RATE, None):
        try:
            info = sd.query_devices(options.device, "input")
            samplerate = rate or float(info["default_samplerate"])
            blocksize = int(samplerate * options.block_ms / 1000)
            return sd.InputStream(
                device=options.device,
                channels=1,
                samplerate=samplerate,
                dtype="float32",
                blocksize=blocksize,
            )
        except Exception as exc:  # PortAudioError, ValueError for an unknown device
            last = exc
    which = "the default input" if options.device is None else f"input device {options.device!r}"
    raise AudioDeviceError(f"cannot open {which}: {last}; check that the microphone is plugged in") from last


class FileInputStream:
    """A microphone that plays a WAV file or an array (looping), with ``unplug``/``replug`` for tests.

    After ``unplug()``, ``read`` raises ``AudioDeviceError`` and ``FileMicrophone.open`` refuses to open
    it, exactly as a vanished USB device does; ``replug()`` makes it available again.
    """

    def __init__(
        self,
        source: Path | np.ndarray,
        *,
        samplerate: int = SAMPLE_RATE,
        loop: bool = True,
        realtime: bool = True,
    ) -> None:
        """Read ``source`` (a WAV path or float32 samples at ``samplerate``).

        With ``realtime`` each ``read`` blocks until its audio would have been recorded, as a device does.
        """
        if isinstance(source, np.ndarray):
            self._samples = np.asarray(source, dtype=np.float32).reshape(-1)
            self.samplerate = float(samplerate)
        else:
            from edge.audio.decode import load_audio

            self._samples = load_audio(Path(source))
            self.samplerate = float(SAMPLE_RATE)
        self.loop = loop
        self.realtime = realtime
        self._clock_start: float | None = None
        self._frames_read = 0
        self.position = 0
        self.started = False
        self.closed = False
        self.plugged = True
        self.reads = 0

    def start(self) -> None:
        """Start the stream."""
        if not self.plugged:
            raise AudioDeviceError("the file microphone is unplugged")
        self.started = True
        self._clock_start = time.monotonic()
        self._frames_read = 0

    def read(self, frames: int) -> tuple[np.ndarray, bool]:
        """The next ``frames`` samples as a (frames, 1) float32 array (zeros once the file ends)."""
        if not self.plugged:
            raise AudioDeviceError("the file microphone was unplugged")
        if not self.started or self.closed:
            raise AudioDeviceError("the file microphone is not started")
        out = np.zeros(frames, dtype=np.float32)
        filled = 0
        while filled < frames and self._samples.size:
            if self.position >= self._samples.size:
                if not self.loop:
                    break
                self.position = 0
            take = min(frames - filled, self._samples.size - self.position)
            out[filled : filled + take] = self._samples[self.position : self.position + take]
            filled += take
            self.position += take
        self.reads += 1
        self._frames_read += frames
        if self.realtime and self._clock_start is not None:
            delay = self._clock_start + self._frames_read / self.samplerate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return out.reshape(-1, 1), False

    def stop(self) -> None:
        """Stop the stream."""
        self.started = False

    def close(self) -> None:
        """Close the stream."""
        self.started = False
        self.closed = True

    def unplug(self) -> None:
        """Simulate the device disappearing."""
        self.plugged = False

    def replug(self) -> None:
        """Simulate the device coming back."""
        self.plugged = True


class FileMicrophone:
    """A stream factory over one ``FileInputStream``: opening fails while it is unplugged."""

    def __init__(self, stream: FileInputStream) -> None:
        self.stream = stream
        self.opens = 0

    def __call__(self, options: CaptureOptions) -> InputStreamLike:
        """Open the stream (a fresh start each time, like a reopened device)."""
        if not self.stream.plugged:
            raise AudioDeviceError("no input device: the file microphone is unplugged")
        self.stream.closed = False
        self.opens += 1
        return self.stream


class MicrophoneCapture:
    """Reads the microphone in a thread and hands 16 kHz float32 frames to ``on_frames``."""

    def __init__(
        self,
        on_frames: FramesHandler,
        *,
        options: CaptureOptions = CaptureOptions(),
        stream_factory: StreamFactory | None = None,
        on_status: StatusHandler | None = None,
    ) -> None:
        """Prepare a capture (``start()`` opens the device).

        Args:
            on_frames: Called from the capture thread with each block (float32, 16 kHz mono).
            options: Device choice and timing.
            stream_factory: Opens a stream (default: ``sounddevice_stream``).
            on_status: Called with ``("lost", error)`` when the device fails and ``("resumed", None)``
                when it works again; ``("opened", None)`` on the first open.
        """
        self.options = options
        self._on_frames = on_frames
        self._on_status = on_status or (lambda _state, _err: None)
        self._factory = stream_factory or sounddevice_stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.muted = False
        self.connected = False
        self.losses = 0

    def start(self) -> None:
        """Start reading in a background thread (returns at once; errors arrive through ``on_status``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="madoguchi-capture", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop reading and close the device."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._thread = None

    @property
    def running(self) -> bool:
        """True while the capture thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                stream = self._factory(self.options)
                stream.start()
            except AudioDeviceError as exc:
                self._lost(exc, announce=first or self.connected)
                first = False
                self._stop.wait(self.options.poll_interval_s)
                continue
            self.connected = True
            self._on_status("opened" if first else "resumed", None)
            first = False
            try:
                self._read_loop(stream)
            except Exception as exc:  # PortAudioError, AudioDeviceError: the device went away
                error = exc if isinstance(exc, AudioDeviceError) else AudioDeviceError(str(exc))
                self._lost(error, announce=True)
            finally:
                _close_quietly(stream)
            if not self._stop.is_set():
                self._stop.wait(self.options.poll_interval_s)

    def _lost(self, error: AudioDeviceError, *, announce: bool) -> None:
        was_connected = self.connected
        self.connected = False
        if announce:
            if was_connected:
                self.losses += 1
            _LOGGER.warning("microphone unavailable: %s (retrying)", error)
            self._on_status("lost", AudioDeviceError(f"microphone lost: {error}; plug it back in"))

    def _read_loop(self, stream: InputStreamLike) -> None:
        rate = float(stream.samplerate)
        block = max(1, int(rate * self.options.block_ms / 1000))
        while not self._stop.is_set():
            data, _overflowed = stream.read(block)
            if self.muted:
                continue
            frames = np.asarray(data, dtype=np.float32).reshape(-1)
            if rate != SAMPLE_RATE:
                frames = resample(frames, rate, SAMPLE_RATE)
            self._on_frames(frames)


def resample(samples: np.ndarray, rate: float, target: float = SAMPLE_RATE) -> np.ndarray:
    """Linear-interpolation resampling of mono float32 samples (enough for speech into Whisper)."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    count = max(1, round(samples.size * target / rate))
    positions = np.linspace(0, samples.size - 1, count)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def _close_quietly(stream: InputStreamLike) -> None:
    for method in (stream.stop, stream.close):
        try:
            method()
        except Exception as exc:  # a dead device may refuse to stop; it is gone either way
            _LOGGER.debug("closing the stream: %s", exc)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise AudioDeviceError(
            "sounddevice/PortAudio is unavailable (install libportaudio2); use the browser microphone"
        ) from exc
    return sounddevice
