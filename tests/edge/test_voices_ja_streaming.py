"""Mei streams by breath group: a long Easy Japanese sentence gets short pauses after its phrases, the
first group is played before the rest is synthesised, and the chosen speaking rate reaches the engine."""

from __future__ import annotations

from typing import Any

import pyopenjtalk
import pytest

from edge.easy_ja import default_easy_japanese
from edge.speech.tts import TtsOptions
from edge.speech.voices.ja_phrasing import add_pauses, breath_groups
from edge.speech.voices.openjtalk import OpenJTalkSynthesizer
from tests.support.data import mei_voice

#: An Easy Japanese sentence of the phrase book with no comma (one breath group of 30 morae as written).
LONG_EASY = "生まれた 日や 引っ越した 日の 次の 日から 15日以内に 申し込みます。"


@pytest.fixture(scope="module")
def mei() -> OpenJTalkSynthesizer:
    return OpenJTalkSynthesizer(mei_voice())


class _RecordingEngine:
    """The real HTS engine, recording each synthesis in a shared event log."""

    def __init__(self, engine: Any, log: list[str]) -> None:
        self._engine, self._log = engine, log
        self.speeds: list[float] = []

    def set_speed(self, speed: float) -> None:
        self.speeds.append(speed)
        self._engine.set_speed(speed)

    def synthesize(self, labels: list[str]) -> Any:
        self._log.append("synthesised")
        return self._engine.synthesize(labels)

    def get_sampling_frequency(self) -> int:
        return int(self._engine.get_sampling_frequency())


def _pauses(text: str, min_morae: int) -> list[str]:
    """The words after which ``add_pauses`` puts a pause."""
    features = add_pauses(pyopenjtalk.run_frontend(text), min_morae)
    return [features[i - 1]["string"] for i, f in enumerate(features) if f["string"] == "、" and i]


def test_long_sentence_pauses_after_phrase_ending_particles_only() -> None:
    assert _pauses(LONG_EASY, 6) == ["や", "から", "に"]
    assert _pauses("保育園に 入る 申し込みは ここです。", 6) == ["に", "は"]
    assert _pauses("保育園に 入る 申し込みは ここです。", 8) == ["は"]
    assert _pauses("子どもは 何歳ですか。", 6) == []  # too short a tail after は
    assert _pauses("お金を 入れる 口座が わかる ものを 持って いますか。", 6) == ["が", "を"]  # 持って: no
    assert _pauses("銀行の 口座の 名前の 人の ものです。", 4) == []  # never after の
    assert _pauses(LONG_EASY, 0) == []


def test_breath_groups_cut_after_each_pause() -> None:
    labels = pyopenjtalk.make_label(add_pauses(pyopenjtalk.run_frontend(LONG_EASY), 6))
    groups = breath_groups(labels)
    assert len(groups) == 4 and sum(map(len, groups)) == len(labels)
    assert all("-pau+" in group[-1] for group in groups[:3]) and "-sil+" in groups[3][-1]
    assert breath_groups(pyopenjtalk.extract_fullcontext("わかりましたか。")) == [
        pyopenjtalk.extract_fullcontext("わかりましたか。")
    ]


def test_first_breath_group_is_sent_before_the_rest_is_synthesised(
    mei: OpenJTalkSynthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []
    monkeypatch.setattr(mei, "_engine", _RecordingEngine(mei._engine, log))
    segments = tuple((s.text, s.reading) for s in default_easy_japanese().furigana(LONG_EASY).segments)
    for chunk in mei.synthesize_readings(segments):
        log.append(f"chunk {chunk.index} {chunk.duration_s:.2f}")
    assert [entry.split()[0] for entry in log] == ["synthesised", "chunk"] * 4  # each sent when made
    first, *rest = (float(entry.split()[2]) for entry in log if entry.startswith("chunk"))
    assert 0.8 < first < sum(rest)  # a phrase first, then the rest of the sentence
    assert len(list(mei.synthesize(LONG_EASY))) == 2  # Japanese: fewer pauses (after 16 morae: から)


def test_breath_groups_together_last_as_long_as_the_sentence_in_one_piece(mei: OpenJTalkSynthesizer) -> None:
    mei._engine.set_speed(1.0)  # the module's voice keeps the rate another test set (Easy Japanese: 0.9)
    labels = pyopenjtalk.make_label(add_pauses(pyopenjtalk.run_frontend(LONG_EASY), 6))
    whole = mei._engine.synthesize(labels)
    pieces = [mei._engine.synthesize(group) for group in breath_groups(labels)]
    assert sum(len(piece) for piece in pieces) == len(whole)


def test_the_chosen_speaking_rates_reach_the_engine(
    mei: OpenJTalkSynthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _RecordingEngine(mei._engine, [])
    monkeypatch.setattr(mei, "_engine", engine)
    monkeypatch.setattr(mei, "speed", 1.0)
    monkeypatch.setattr(mei, "easy_speed", 0.85)
    normal = sum(c.duration_s for c in mei.synthesize("住民票の写しですね。"))
    easy = sum(
        c.duration_s
        for c in mei.synthesize_readings([("住民票", "じゅうみんひょう"), ("の写しですね。", None)])
    )
    assert engine.speeds == [1.0, 0.85]  # Easy Japanese at its own rate
    assert 1.1 < easy / normal < 1.25  # about 1 / 0.85 longer
    list(mei.synthesize_readings([("住民票です。", None)], TtsOptions(length_scale=1.25)))
    assert engine.speeds[-1] == pytest.approx(0.8)  # the caller's options win over the voice's rate
