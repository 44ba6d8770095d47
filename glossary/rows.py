"""The table rows of terms and phrases (CSV, XLSX, and JSON uploads checked as tables)."""

from __future__ import annotations

from glossary.schema import TRANSLATION_LANGUAGES, Phrase, Term


def term_row(t: Term) -> list[str]:
    """The CSV/XLSX cells of a term, in :data:`TERM_COLUMNS` order."""
    return [
        t.id,
        t.domain,
        t.ja,
        t.reading,
        "|".join(t.variants),
        *(t.translations.get(lang, "") for lang in TRANSLATION_LANGUAGES),
        t.easy_ja,
        t.explanation_en,
        t.status,
        t.source,
    ]


def phrase_row(p: Phrase) -> list[str]:
    """The CSV/XLSX cells of a phrase, in :data:`PHRASE_COLUMNS` order."""
    return [
        p.id,
        p.situation,
        p.ja,
        p.easy_ja,
        *(p.translations.get(lang, "") for lang in TRANSLATION_LANGUAGES),
        p.status,
        p.source,
    ]
