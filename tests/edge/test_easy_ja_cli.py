"""``madoguchi easy``: text output, JSON, --no-rewrite, exported names."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

import edge.easy_ja
from edge.easy_ja.cli import easy_command


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("easy")(easy_command)

    @app.callback()
    def _root() -> None:
        """Root (so `easy` is a subcommand, as in the madoguchi CLI)."""

    return app


def test_cli_prints_furigana_and_rules() -> None:
    """The text form shows 漢字[かんじ] and the rule ids."""
    result = CliRunner().invoke(_app(), ["easy", "こちらにご記入ください。"])
    assert result.exit_code == 0, result.output
    assert "書[か]いてください。" in result.output
    assert "rules: honorific.go_suru, lexical.paraphrase" in result.output


def test_cli_json_has_the_result() -> None:
    """--json prints the whole EasyResult."""
    result = CliRunner().invoke(_app(), ["easy", "--json", "住民票の写しを14日までにご提出ください。"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["text"].startswith("住民票の写し（")
    assert "<ruby>14日<rt>じゅうよっか</rt></ruby>" in data["ruby_html"]
    assert data["terms"][0]["term_id"] == "res.juminhyo_copy"
    assert data["unsimplified"] is False


def test_cli_no_rewrite_keeps_the_words() -> None:
    """--no-rewrite adds furigana only."""
    result = CliRunner().invoke(_app(), ["easy", "--no-rewrite", "3階にお越しください"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("3階[さんがい]にお越[こ]しください")
    assert "rules: (none)" in result.output


def test_cli_marks_unsimplified() -> None:
    """An unsafe sentence is reported with its reason."""
    result = CliRunner().invoke(_app(), ["easy", "書類がなければ、受け付けできません。"])
    assert result.exit_code == 0
    assert "unsimplified (conditional_negation)" in result.output


def test_cli_rejects_empty_text() -> None:
    """Empty text is a usage error, not a traceback."""
    result = CliRunner().invoke(_app(), ["easy", "  "])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_exported_names_are_sorted_and_present() -> None:
    """__all__ lists public names, sorted, each importable."""
    names = edge.easy_ja.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(edge.easy_ja, name)
