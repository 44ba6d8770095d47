"""diff(a, b): added, removed and changed terms and phrases."""

from __future__ import annotations

import dataclasses

from glossary import Glossary, diff


def test_diff_added_removed_changed(small_glossary: Glossary) -> None:
    """Removing, adding and editing entries shows up with the changed fields."""
    term = small_glossary.term("res.juminhyo")
    edited = dataclasses.replace(
        term, translations=dict(term.translations) | {"vi": "phiếu cư trú"}, status="reviewed"
    )
    new = dataclasses.replace(term, id="res.juminhyo_new", ja="住民票新")
    terms = [t for t in small_glossary.terms.values() if t.id not in ("res.juminhyo", "tax.zei")]
    phrases = [p for p in small_glossary.phrases.values() if p.id != "waiting.moment"]
    b = Glossary.from_items([*terms, edited, new], phrases)
    d = diff(small_glossary, b)
    assert d.added_terms == ("res.juminhyo_new",)
    assert d.removed_terms == ("tax.zei",)
    assert [(c.id, c.fields) for c in d.changed_terms] == [("res.juminhyo", ("status", "translations.vi"))]
    assert d.removed_phrases == ("waiting.moment",) and not d.added_phrases
    out = d.to_dict()
    assert out["terms"]["changed"][0]["after"]["translations.vi"] == "phiếu cư trú"
    assert not d.empty


def test_diff_of_identical_is_empty(small_glossary: Glossary) -> None:
    """A glossary compared with itself has no differences."""
    assert diff(small_glossary, small_glossary).empty
