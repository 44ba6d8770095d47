"""Which installed voice speaks a language when several could: the one measured best (PREFERRED_VOICES)."""

from __future__ import annotations

from pathlib import Path

from edge import engines
from edge.config import EdgeSettings
from models import PackStore, install_pack
from tests.support.data import TEST_CACHE_DIR

ZH_VOICES = ("kokoro-zh-zf_xiaobei", "kokoro-zh-zm_yunjian")


def test_mandarin_is_spoken_by_the_voice_understood_best(tmp_path: Path) -> None:
    store = PackStore(tmp_path / "packs")
    for name in ("kokoro-82m-v1.0-int8", *ZH_VOICES):  # the female voice is installed first
        install_pack(name, store, cache_dir=TEST_CACHE_DIR)
    settings = EdgeSettings(packs_dir=store.root, languages=["zh"], fallback_voice_languages=[])
    assert engines.find_voices(settings)["zh"].pack_id == "kokoro-zh-zm_yunjian"
    store.remove("kokoro-zh-zm_yunjian")
    assert engines.find_voices(settings)["zh"].pack_id == "kokoro-zh-zf_xiaobei"  # the other still speaks
