"""Small valid glossaries for the tests (terms, a phrase, translations in every counter language)."""

from __future__ import annotations

from glossary.schema import Glossary, Phrase, Term

LANGS = ("en", "vi", "zh", "tl", "pt", "ne", "ko", "id", "es")


def tax_term(translations: dict[str, str]) -> Term:
    """The resident-tax term (``tax.juminzei``) with these translations."""
    return Term(
        id="tax.juminzei",
        domain="tax",
        ja="住民税",
        reading="じゅうみんぜい",
        translations=translations,
        easy_ja="すんでいる まちに はらう ぜいきん",
    )


def juminhyo_term(translations: dict[str, str]) -> Term:
    """The certificate-of-residence term (``res.juminhyo_copy``) with these translations."""
    return Term(
        id="res.juminhyo_copy",
        domain="res",
        ja="住民票の写し",
        reading="じゅうみんひょうのうつし",
        variants=("住民票",),
        translations=translations,
        easy_ja="すんでいる ところを しょうめいする かみ",
    )


def welcome_phrase(translations: dict[str, str]) -> Phrase:
    """The greeting phrase (``greeting.welcome``) with these translations."""
    return Phrase(
        id="greeting.welcome",
        situation="greeting",
        ja="こんにちは。ご用件をどうぞ。",
        easy_ja="こんにちは。なにを しますか。",
        translations=translations,
    )


def make_glossary(label: str = "a", *, extra_term: bool = False) -> Glossary:
    """A small valid glossary; ``label`` changes the translations so versions differ."""
    terms = [
        juminhyo_term({lang: f"certificate of residence ({lang}, {label})" for lang in LANGS}),
        tax_term({lang: f"resident tax ({lang}, {label})" for lang in LANGS}),
    ]
    if extra_term:
        terms.append(
            Term(
                id="waste.sodai_gomi",
                domain="waste",
                ja="粗大ごみ",
                reading="そだいごみ",
                translations={lang: f"oversized waste ({lang}, {label})" for lang in LANGS},
                easy_ja="おおきい ごみ",
            )
        )
    phrases = [welcome_phrase({lang: f"Hello, how can I help? ({lang})" for lang in LANGS})]
    return Glossary.from_items(terms, phrases)


def small_glossary(label: str, *, term_text: str | None = None) -> Glossary:
    """Two terms and a phrase; ``label`` makes versions differ, ``term_text`` sets every translation."""
    terms = [
        juminhyo_term({lang: term_text or f"certificate of residence ({lang}, {label})" for lang in LANGS}),
        tax_term({lang: f"resident tax ({lang}, {label})" for lang in LANGS}),
    ]
    phrases = [welcome_phrase({lang: f"Hello, how can I help? ({lang}, {label})" for lang in LANGS})]
    return Glossary.from_items(terms, phrases)
