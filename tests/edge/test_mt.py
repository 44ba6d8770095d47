"""MtRouter over real CTranslate2 TINY twins and real sentencepiece models, for every pack format."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.errors import EngineUnavailable, LanguageError, MtUnavailable
from edge.translate.router import MtOptions, MtRouter, join_sentences, split_sentences
from tests.support.tiny_models import build_store

OPTIONS = MtOptions(beam_size=2, max_decoding_length=12)
JA_TEXT = "住民票の写しをください。"
THREE_JA = "住民票の写しをください。マイナンバーカードはありますか？こちらに記入してください。"
LEAKS = ("\u2581", "<s>", "</s>", "<unk>", "<pad>", "__tl__", "__ne__", "__ja__")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    return build_store(tmp_path_factory.mktemp("packs"))


@pytest.fixture(scope="module")
def router(store) -> MtRouter:
    return MtRouter(store, OPTIONS)


@pytest.mark.parametrize(
    ("pack_id", "source", "target", "text"),
    [
        ("tiny-ja-en", "ja", "en", JA_TEXT),  # ct2-sentencepiece, separate src/tgt models
        ("tiny-en-ko", "en", "ko", "Please fill in this form."),  # ct2-sentencepiece, one shared model
        ("tiny-en-vi", "en", "vi", "Please fill in this form."),  # argos layout (model/ subdir)
        ("tiny-ja-es", "ja", "es", JA_TEXT),  # opus-mt
        ("tiny-m2m", "ja", "tl", JA_TEXT),  # m2m100 language tokens
    ],
)
def test_each_format_loads_and_decodes(
    router: MtRouter, pack_id: str, source: str, target: str, text: str
) -> None:
    result = router.translate(text, source, target)
    assert result.engine == "ctranslate2"
    assert result.pack_ids == [pack_id]
    assert result.pivot is None
    assert isinstance(result.text, str) and result.text.strip()
    assert not any(leak in result.text for leak in LEAKS)
    assert result.text == router.translate(text, source, target).text  # deterministic
    assert result.timings_ms["total"] > 0


def test_batch_of_three_sentences_keeps_order(router: MtRouter) -> None:
    result = router.translate(THREE_JA, "ja", "en")
    singles = [router.translate(s, "ja", "en").text for s in split_sentences(THREE_JA)]
    assert len(result.segments) == 3
    assert result.segments == singles
    assert len(set(singles)) == 3  # the source really drives the (random) model
    assert result.text == join_sentences(singles, "en")


def test_m2m100_target_language_token_steers_the_decoder(router: MtRouter) -> None:
    to_tl = router.translate(JA_TEXT, "ja", "tl")
    to_ne = router.translate(JA_TEXT, "ja", "ne")
    assert to_tl.pack_ids == to_ne.pack_ids == ["tiny-m2m"]
    assert to_tl.text != to_ne.text


def test_pivot_through_english_uses_both_packs(tmp_path: Path) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en", "tiny-en-vi")), OPTIONS)
    assert router.can_translate("ja", "vi")
    result = router.translate(THREE_JA, "ja", "vi")
    assert result.engine == "ctranslate2-pivot"
    assert result.pack_ids == ["tiny-ja-en", "tiny-en-vi"]
    assert result.pivot == "en"
    assert len(result.segments) == 3 and all(result.segments)
    assert {"ja-en", "en-vi"} <= set(result.timings_ms)
    english = router.translate(THREE_JA, "ja", "en").segments
    assert result.segments == [router.translate(s, "en", "vi").text for s in english]


def test_missing_pair_names_packs_to_install(tmp_path: Path) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en",)), OPTIONS)
    assert not router.can_translate("ja", "zh")
    with pytest.raises(MtUnavailable, match=r"ja→zh.*madoguchi models install quickmt-en-zh`"):
        router.translate(JA_TEXT, "ja", "zh")
    assert "quickmt-ja-en" not in router.missing_hint("ja", "zh")  # already installed
    assert router.missing_hint("vi", "ko") == (
        "no MT pack for vi→ko: run `madoguchi models install quickmt-vi-en quickmt-en-ko`"
    )
    assert router.missing_hint("ja", "ne").endswith("install m2m100-418m`")
    assert router.missing_hint("tl", "ja").endswith("install m2m100-418m`")


def test_corrupt_model_bin_gives_one_line_fix(tmp_path: Path) -> None:
    store = build_store(tmp_path, ("tiny-ja-en",))
    (tmp_path / "tiny-ja-en" / "model.bin").write_bytes(b"not a ctranslate2 model" * 10)
    with pytest.raises(EngineUnavailable) as info:
        MtRouter(store, OPTIONS).translate(JA_TEXT, "ja", "en")
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "tiny-ja-en") in message
    assert "madoguchi models verify tiny-ja-en" in message


def test_corrupt_tokenizer_gives_one_line_fix(tmp_path: Path) -> None:
    store = build_store(tmp_path, ("tiny-en-vi",))
    (tmp_path / "tiny-en-vi" / "sentencepiece.model").write_bytes(b"\x00garbage")
    with pytest.raises(
        EngineUnavailable, match=r"tiny-en-vi: tokenizer .*madoguchi models verify tiny-en-vi"
    ):
        MtRouter(store, OPTIONS).translate("Hello.", "en", "vi")


def test_warm_loads_once_so_translation_does_no_file_io(tmp_path: Path) -> None:
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en", "tiny-en-vi")), OPTIONS)
    router.warm([("ja", "vi"), ("ja", "ne")])  # ja→ne missing: logged, not raised
    before = router.translate(JA_TEXT, "ja", "vi").text
    for name in ("model.bin", "src.spm.model", "tgt.spm.model"):
        (tmp_path / "tiny-ja-en" / name).unlink()
    assert router.translate(JA_TEXT, "ja", "vi").text == before


def test_stream_pieces_join_to_the_greedy_translation(store) -> None:
    greedy = MtRouter(store, MtOptions(beam_size=1, max_decoding_length=12))
    pieces = list(greedy.translate_stream(JA_TEXT, "ja", "en"))
    assert len(pieces) > 1
    assert "".join(pieces) == greedy.translate(JA_TEXT, "ja", "en").text
    two = "".join(greedy.translate_stream("住民票の写しをください。ありがとう。", "ja", "en"))
    assert two == greedy.translate("住民票の写しをください。ありがとう。", "ja", "en").text


def test_same_language_and_unknown_language(router: MtRouter) -> None:
    same = router.translate(JA_TEXT, "ja", "ja")
    assert (same.text, same.engine, same.pack_ids) == (JA_TEXT, "none", [])
    with pytest.raises(LanguageError):
        router.translate(JA_TEXT, "ja", "xx")


def test_split_sentences() -> None:
    assert split_sentences("住民票ですか？はい。お願いします！") == [
        "住民票ですか？",
        "はい。",
        "お願いします！",
    ]
    assert split_sentences("Is this it?! Yes. Mr.Tanaka is here.\nThanks") == [
        "Is this it?!",
        "Yes.",
        "Mr.Tanaka is here.",
        "Thanks",
    ]
    assert split_sentences("  ") == []
    assert join_sentences(["はい。", "どうぞ。"], "ja") == "はい。どうぞ。"


def test_routes_are_cached_until_reset(tmp_path: Path) -> None:
    store = build_store(tmp_path, ("tiny-ja-en",))
    router = MtRouter(store, OPTIONS)
    assert router.can_translate("ja", "en") and not router.can_translate("ja", "vi")
    assert not router.can_translate("ja", "ja-easy")  # not an MT language: no exception in the pipeline
    build_store(tmp_path, ("tiny-en-vi",))  # a pack installed while running
    assert router.can_translate("ja", "vi")  # missing pairs are looked up again
    (tmp_path / "tiny-ja-en" / "pack.json").unlink()
    assert router.translate(JA_TEXT, "ja", "en").pack_ids == ["tiny-ja-en"]  # cached: no manifest read
    router.reset()
    assert not router.can_translate("ja", "en")
