"""``madoguchi easy "TEXT"``: Easy Japanese with furigana and the rules that fired."""

from __future__ import annotations

import json
import logging
import sys

import typer

from edge.easy_ja.rewrite import EasyResult

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Easy Japanese (やさしい日本語) with furigana.", no_args_is_help=True)


def render_text(result: EasyResult) -> str:
    """The terminal form: 漢字[かんじ] text, the rules per sentence, unsimplified sentences marked."""
    lines = [result.bracketed]
    for s in result.sentences:
        if s.unsimplified:
            lines.append(f"  unsimplified ({s.reason}): {s.original}")
    lines.append("rules: " + (", ".join(result.rules_fired) if result.rules_fired else "(none)"))
    for t in result.terms:
        lines.append(f"term: {t.ja} [{t.reading}] = {t.easy_ja}")
    return "\n".join(lines)


def easy_command(
    text: str = typer.Argument(..., help='Japanese text to rewrite ("-" reads standard input).'),
    json_output: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
    no_rewrite: bool = typer.Option(False, "--no-rewrite", help="Only add furigana; keep the words."),
) -> None:
    """Rewrite Japanese into Easy Japanese (やさしい日本語) with furigana, offline."""
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise typer.BadParameter("give the Japanese text to rewrite, e.g. madoguchi easy 'ご記入ください。'")
    from edge.easy_ja import default_easy_japanese

    easy = default_easy_japanese()
    result = easy.annotate_only(text.strip()) if no_rewrite else easy.rewrite(text)
    if json_output:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(result))


app.command("rewrite")(easy_command)
