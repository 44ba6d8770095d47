"""Value objects: immutability, canonical JSON, content hash and version."""

from __future__ import annotations

import dataclasses
import json

import pytest

import glossary
from glossary import Glossary, SchemaError, Term
from glossary.schema import DOMAINS, SITUATIONS, TRANSLATION_LANGUAGES


def test_exported_names_are_sorted_and_exist() -> None:
    """__all__ names every public object, and each one exists."""
    for name in glossary.__all__:
        assert hasattr(glossary, name), name
    assert len(set(glossary.__all__)) == len(glossary.__all__)


def test_domains_and_situations_have_labels() -> None:
    """Every domain key of the contract has a Japanese and English label; domains are situations."""
    assert set(DOMAINS) == {
        "res", "mynum", "status", "tax", "nhi", "pension", "child", "school", "allow", "waste",
        "disaster", "health",
    }  # fmt: skip
    assert all(label.ja and label.en for label in DOMAINS.values())
    assert set(DOMAINS) <= set(SITUATIONS)
    assert len(TRANSLATION_LANGUAGES) == 9


def test_term_is_immutable(small_glossary: Glossary) -> None:
    """Terms and their translations cannot be changed in place."""
    term = small_glossary.term("res.juminhyo")
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.ja = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        term.translations["vi"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        small_glossary.terms["x"] = term  # type: ignore[index]


def test_dict_round_trip_keeps_hash_and_version(small_glossary: Glossary) -> None:
    """from_dict(to_dict()) gives an equal glossary; canonical JSON is stable bytes."""
    d = small_glossary.to_dict()
    again = Glossary.from_dict(json.loads(json.dumps(d)))
    assert again == small_glossary
    assert again.content_hash == small_glossary.content_hash
    assert again.canonical_json() == small_glossary.canonical_json()
    assert (
        small_glossary.canonical_json()
        == json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert small_glossary.version == f"sha256:{small_glossary.content_hash[:16]}"


def test_version_stamp_does_not_change_content_hash(small_glossary: Glossary) -> None:
    """A server version string changes version and canonical JSON, not the content hash."""
    stamped = small_glossary.with_version("2026-11-29.1", created_at="2026-11-29T05:00:00Z")
    assert stamped.content_hash == small_glossary.content_hash
    assert stamped.version == "2026-11-29.1"
    assert stamped.canonical_json() != small_glossary.canonical_json()
    assert Glossary.from_json(stamped.canonical_json()).created_at == "2026-11-29T05:00:00Z"


def test_content_change_changes_hash(small_glossary: Glossary) -> None:
    """Changing one translation changes the content hash and the default version."""
    term = small_glossary.term("res.juminhyo")
    changed = dataclasses.replace(term, translations=dict(term.translations) | {"vi": "giấy cư trú"})
    other = Glossary.from_items([changed, *(t for t in small_glossary.terms.values() if t.id != term.id)])
    assert other.content_hash != small_glossary.content_hash
    assert other.version != Glossary.from_items(small_glossary.terms.values()).version


def test_tampered_json_is_refused(small_glossary: Glossary) -> None:
    """A canonical JSON whose content no longer matches its content_hash is refused."""
    d = small_glossary.to_dict()
    d["terms"][0]["translations"]["vi"] = "tampered"
    with pytest.raises(SchemaError, match="hash mismatch"):
        Glossary.from_dict(d)


def test_term_translation_helper() -> None:
    """translation('ja') is the headword; a missing language gives an empty string."""
    term = Term(id="res.x", domain="res", ja="住民票", reading="じゅうみんひょう", translations={"en": "a"})
    assert term.translation("ja") == "住民票"
    assert term.translation("en") == "a"
    assert term.translation("vi") == ""
