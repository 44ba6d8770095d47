"""The device microphone path: a file-backed stream with the sounddevice interface, unplug and replug."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from edge.audio.capture import (
    CaptureOptions,
    FileInputStream,
    FileMicrophone,
    MicrophoneCapture,
    list_input_devices,
    resample,
    sounddevice_stream,
)
from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.errors import AudioDeviceError
from tests.support.counter import choose_language, wait_for


@pytest.fixture()
def speech(eval_dir: Path) -> np.ndarray:
    from edge.audio.decode import load_audio

    return load_audio(eval_dir / "speech" / "test_ja_2.wav")[: 16000 * 2]


def test_file_stream_reads_like_sounddevice(speech: np.ndarray) -> None:
    """read(frames) returns (frames, 1) float32 and loops over the file."""
    stream = FileInputStream(speech, realtime=False)
    stream.start()
    block, overflowed = stream.read(512)
    assert block.shape == (512, 1) and block.dtype == np.float32 and not overflowed
    assert np.allclose(block[:, 0], speech[:512])
    for _ in range(speech.size // 512 + 2):
        stream.read(512)
    assert stream.position < speech.size  # looped


def test_capture_survives_unplug_and_replug(speech: np.ndarray) -> None:
    """Device loss → one AudioDeviceError; the capture polls and resumes when the device is back."""
    stream = FileInputStream(speech)
    mic = FileMicrophone(stream)
    frames: list[np.ndarray] = []
    statuses: list[tuple[str, AudioDeviceError | None]] = []
    lock = threading.Lock()

    def on_frames(block: np.ndarray) -> None:
        with lock:
            frames.append(block)

    capture = MicrophoneCapture(
        on_frames,
        options=CaptureOptions(poll_interval_s=0.05),
        stream_factory=mic,
        on_status=lambda state, err: statuses.append((state, err)),
    )
    capture.start()
    try:
        assert wait_for(lambda: len(frames) > 5)
        assert statuses[0] == ("opened", None)
        assert frames[0].dtype == np.float32 and frames[0].size == 512
        stream.unplug()
        assert wait_for(lambda: any(state == "lost" for state, _ in statuses))
        lost = [err for state, err in statuses if state == "lost"]
        assert len(lost) == 1 and isinstance(lost[0], AudioDeviceError)
        assert not capture.connected
        time.sleep(0.2)  # several failed polls: still one notice
        assert [state for state, _ in statuses].count("lost") == 1
        with lock:
            before = len(frames)
        stream.replug()
        assert wait_for(lambda: ("resumed", None) in statuses)
        assert wait_for(lambda: len(frames) > before + 5)
        assert capture.connected and capture.losses == 1 and mic.opens == 2
    finally:
        capture.stop()
    assert not capture.running


def test_muted_capture_drops_frames(speech: np.ndarray) -> None:
    """While the device speaks, frames are read and dropped."""
    stream = FileInputStream(speech)
    frames: list[np.ndarray] = []
    capture = MicrophoneCapture(frames.append, stream_factory=FileMicrophone(stream))
    capture.muted = True
    capture.start()
    try:
        assert wait_for(lambda: stream.reads > 20)
        assert frames == []
    finally:
        capture.stop()


def test_resample_keeps_duration() -> None:
    """48 kHz → 16 kHz keeps the duration and the tone."""
    t = np.arange(48000) / 48000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, 48000, 16000)
    assert out.size == 16000 and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 440) <= 1


def test_sounddevice_without_a_device_is_an_audio_device_error() -> None:
    """On a machine without a microphone, opening one is a one-line AudioDeviceError."""
    try:
        devices = list_input_devices()
    except AudioDeviceError:
        devices = []
    if devices:
        pytest.skip("this machine has a real input device")
    with pytest.raises(AudioDeviceError, match="cannot open"):
        sounddevice_stream(CaptureOptions(device=None))


def test_devices_endpoint_answers_without_portaudio_devices(tmp_path: Path) -> None:
    """The device list is empty (not an error page) on a machine without microphones."""
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0, mic_device=3))
    with TestClient(app, base_url="http://localhost") as client:
        body = client.get("/api/devices").json()
    assert body["selected"] == 3
    assert isinstance(body["devices"], list)
    for device in body["devices"]:
        assert device["channels"] > 0


def test_counter_device_microphone_loss_abandons_the_turn(tmp_path: Path, speech: np.ndarray) -> None:
    """Through the WebSocket: the device mic feeds the recording; unplugging sends an audio_device error."""
    stream = FileInputStream(speech)
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(
        settings,
        pipeline=None,
        options=CounterOptions(idle_timeout_s=0),
        capture_factory=FileMicrophone(stream),
    )
    with (
        TestClient(app, base_url="http://localhost") as client,
        client.websocket_connect("ws://localhost/ws") as ws,
    ):
        choose_language(ws, "en")
        ws.send_text(json.dumps({"type": "start", "speaker": "clerk", "mode": "ptt", "source": "device"}))
        state = ws.receive_json()
        assert state["recording"]["source"] == "device"
        assert wait_for(lambda: stream.reads > 30)
        stream.unplug()
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "audio_device"
        stream.replug()
        notice = ws.receive_json()
        assert notice["code"] == "mic_resumed"
        assert wait_for(lambda: stream.reads > 60)
        ws.send_text(json.dumps({"type": "stop"}))
        # the audio after the replug reached the recording: a turn starts (and reports the missing models)
        messages = [ws.receive_json() for _ in range(3)]
        assert any(m.get("code") == "not_ready" for m in messages)
        assert app.state.counter.status()["device_microphone"]["owner"] is False
