"""The ``ja-easy`` target in the turn pipeline, and pre-editing Japanese for MT."""

from __future__ import annotations

from pathlib import Path

from edge.events import Notice, TranslationReady
from edge.translate.router import MtOptions, MtRouter
from edge.turn.pipeline import TurnPipeline
from tests.support.tiny_models import build_store


def test_ja_easy_target_rewrites_with_furigana_without_mt() -> None:
    """Typed clerk Japanese → Easy Japanese with ruby_html, engine easy-ja, terms listed."""
    pipe = TurnPipeline(None, {}, None, languages=("ja", "vi"))
    events: list[object] = []
    result = pipe.translate_text("住民票の写しを14日までにご提出ください。", "ja", "ja-easy", events.append)
    assert result.mt_engine == "easy-ja"
    assert result.target_language == "ja-easy"
    assert result.target_text.startswith("住民票の写し（")
    assert "出してください" in result.target_text
    assert "<ruby>14日<rt>じゅうよっか</rt></ruby>" in (result.ruby_html or "")
    assert result.terms_applied == ["res.juminhyo_copy"]
    assert result.easy_ja is not None and "honorific.go_suru" in result.easy_ja["rules_fired"]
    ready = [e for e in events if isinstance(e, TranslationReady)]
    assert ready and ready[0].ruby_html == result.ruby_html
    assert result.to_dict()["ruby_html"] == result.ruby_html
    assert result.voice_missing == "ja-easy"  # Japanese is text-first


def test_ja_easy_marks_unsimplified_with_a_notice() -> None:
    """A sentence kept as said is reported as a notice and in easy_ja."""
    pipe = TurnPipeline(None, {}, None, languages=("ja",))
    events: list[object] = []
    result = pipe.translate_text("書類がなければ、受け付けできません。", "ja", "ja-easy", events.append)
    assert result.target_text == "書類がなければ、受け付けできません。"
    assert result.easy_ja is not None and result.easy_ja["unsimplified"] is True
    assert any(isinstance(e, Notice) and e.code == "easy_ja_unsimplified" for e in events)


def test_script_stays_text_through_the_pipeline() -> None:
    """ruby_html from the pipeline never carries markup from the input."""
    pipe = TurnPipeline(None, {}, None, languages=("ja",))
    result = pipe.translate_text("<img src=x onerror=alert(1)>を提出してください。", "ja", "ja-easy")
    assert "<img" not in (result.ruby_html or "")
    assert "&lt;img" in (result.ruby_html or "")


def test_resident_who_chose_ja_easy_speaks_japanese() -> None:
    """Source ja-easy is recognised as Japanese; into Japanese it is shown as typed."""
    pipe = TurnPipeline(None, {}, None, languages=("ja",))
    result = pipe.translate_text("わかりました。", "ja-easy", "ja")
    assert result.source_language == "ja"
    assert result.target_text == "わかりました。"


def test_pre_edit_translates_the_simplified_japanese(tmp_path: Path) -> None:
    """With pre_edit_easy_ja, MT (a real tiny CTranslate2 pack) gets the simplified Japanese."""
    router = MtRouter(build_store(tmp_path, ("tiny-ja-en",)), MtOptions(beam_size=1, max_decoding_length=8))
    source = "住民票の写しをご提出いただけますでしょうか。"
    plain = TurnPipeline(None, {}, router, languages=("ja", "en")).translate_text(source, "ja", "en")
    assert plain.mt_input is None
    edited = TurnPipeline(None, {}, router, languages=("ja", "en"), pre_edit_easy_ja=True).translate_text(
        source, "ja", "en"
    )
    assert edited.mt_input == "住民票の写しを出してください。"
    assert edited.mt_engine.startswith("ctranslate2")
    assert edited.source_text == source
