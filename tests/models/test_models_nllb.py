"""NLLB-200 directories are recognised as NLLB (FLORES-200 codes), and the non-commercial gate applies
to local installs as it does to catalogue installs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tiny_packs import build_tiny_translator
from edge.translate.router import MtOptions, MtRouter
from models import PackStore, install_pack
from models.detect import detect
from models.errors import LicenseNotAccepted


@pytest.fixture(scope="module")
def nllb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A converted NLLB directory as ct2-transformers-converter leaves it (no pack.json)."""
    out = tmp_path_factory.mktemp("nllb") / "nllb-200-distilled-600M-ct2"
    build_tiny_translator(out, ("ja", "en", "tl"), fmt="nllb", directions=None)
    (out / "pack.json").unlink()
    return out


def test_detected_as_nllb_with_flores_codes(nllb_dir: Path) -> None:
    detected = detect(nllb_dir, name_hint=nllb_dir.name, languages=["ja", "en", "tl"])
    assert detected.format == "nllb"
    assert detected.language_codes == {"ja": "jpn_Jpan", "en": "eng_Latn", "tl": "tgl_Latn"}
    assert detected.license is not None and detected.license["commercial_ok"] is False


def test_local_install_is_gated_then_translates_with_nllb_tokens(nllb_dir: Path, tmp_path: Path) -> None:
    store = PackStore(tmp_path / "store")
    with pytest.raises(LicenseNotAccepted, match=r"CC-BY-NC-4\.0.*--accept-noncommercial"):
        install_pack(str(nllb_dir), store, languages=["ja", "en", "tl"])
    assert not store.installed() and not list(store.root.glob(".tmp-*"))
    pack = install_pack(str(nllb_dir), store, languages=["ja", "en", "tl"], accept_noncommercial=True)
    assert pack.spec.format == "nllb" and pack.spec.license.spdx == "CC-BY-NC-4.0"
    router = MtRouter(store, MtOptions(beam_size=1, max_decoding_length=6))
    engine = router._load(pack)
    batch, prefix = engine.codec.encode(["はい。"], "ja", "tl")
    assert batch[0][0] == "jpn_Jpan" and batch[0][-1] == "</s>" and prefix == ["tgl_Latn"]
    assert router.translate("住民票をください。", "ja", "tl").text
