"""Protect, restore, fallback and verify on synthetic translations."""

from __future__ import annotations

from glossary import Glossary, TermMatcher, protect, restore, verify
from glossary.enforce import approved_term


def test_protect_replaces_terms_with_numbered_placeholders(matcher: TermMatcher) -> None:
    """Each matched term becomes ZX<n>; slots list the term ids in order."""
    p = protect("住民票の写しとマイナンバーカードを持ってきてください", matcher.find(
        "住民票の写しとマイナンバーカードを持ってきてください"))  # fmt: skip
    assert p.text == "ZX1とZX2を持ってきてください"
    assert p.slots == ("res.juminhyo_copy", "mynum.card")
    assert p.placeholder(1) == "ZX2"


def test_protect_accepts_a_matcher_and_picks_a_free_prefix(matcher: TermMatcher) -> None:
    """With no matches given the matcher finds them; text already holding ZX7 gets another prefix."""
    p = protect("型番ZX7の住民票", matcher=matcher)
    assert p.prefix == "QX" and p.text == "型番ZX7のQX1"


def test_restore_puts_the_approved_target_term(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """A translation that kept the placeholders gets the approved terms of the target language."""
    source = "住民票の写しとマイナンバーカードを持ってきてください"
    p = protect(source, matcher.find(source))
    e = restore("Vui lòng mang ZX1 và ZX2.", p, small_glossary, "vi")
    assert e.text == "Vui lòng mang bản sao giấy chứng nhận cư trú và thẻ My Number."
    assert e.applied == ("res.juminhyo_copy", "mynum.card")
    assert e.fallback == () and e.missing == () and not e.flagged


def test_restore_tolerates_garbled_placeholders(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """zx1, ZX 2, ＺＸ３ and ZX-04 forms are all recognised; a sentence-initial term is capitalised."""
    source = "住民票と住民税と印鑑登録とマイナンバー"
    p = protect(source, matcher.find(source))
    assert len(p.slots) == 4
    e = restore("zx1, ZX 2, ＺＸ３ and ZX-04.", p, small_glossary, "en")
    assert e.text == "Residence certificate, resident tax, seal registration and My Number."
    assert not e.flagged


def test_missing_placeholder_falls_back_to_brackets(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """A dropped placeholder: its approved term goes in brackets at the end, and the result is flagged."""
    source = "住民票の写しとマイナンバーカードを持ってきてください"
    p = protect(source, matcher.find(source))
    e = restore("请带上ZX1和卡。", p, small_glossary, "zh")
    assert e.text == "请带上住民票副本和卡。 [个人编号卡]"
    assert e.applied == ("res.juminhyo_copy",)
    assert e.fallback == ("mynum.card",)
    assert e.flagged and e.missing == ()


def test_stray_prefix_and_invented_slot_are_removed(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """A bare 'ZX' or an unknown ZX9 is dropped instead of being shown to the resident."""
    p = protect("住民票をください", matcher.find("住民票をください"))
    e = restore("Please give me ZX ZX9.", p, small_glossary, "en")
    assert "ZX" not in e.text
    assert e.text == "Please give me . [residence certificate]"
    assert e.fallback == ("res.juminhyo",) and e.flagged


def test_through_an_english_pivot(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """Placeholders carried through ja→en→es are restored with the Spanish approved term at the end."""
    p = protect("転入届を出してください", matcher.find("転入届を出してください"))
    english = "Please submit ZX1."  # what ja→en produced
    spanish = "Por favor, presente ZX1."  # what en→es produced from it
    e = restore(spanish, p, small_glossary, "es")
    assert e.text == "Por favor, presente notificación de mudanza (entrada)."
    assert not e.flagged and english


def test_no_terms_is_identity(small_glossary: Glossary) -> None:
    """Without matches, protect and restore change nothing."""
    p = protect("こんにちは", [])
    assert p.text == "こんにちは" and p.slots == ()
    e = restore("Hello ZX1", p, small_glossary, "en")
    assert e.text == "Hello ZX1" and not e.flagged


def test_verify_lists_missing_terms(small_glossary: Glossary) -> None:
    """verify() folds case and width and names the terms whose approved form is absent."""
    assert verify("A COPY OF RESIDENCE CERTIFICATE", ["res.juminhyo_copy"], small_glossary, "en") == []
    assert verify("a residence paper", ["res.juminhyo_copy"], small_glossary, "en") == ["res.juminhyo_copy"]
    assert approved_term(small_glossary.term("res.juminhyo"), "ja") == "住民票"


def test_glued_placeholder_never_leaks(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """A placeholder glued to a word is still restored; nothing placeholder-like is left over."""
    p = protect("住民票と住民税", matcher.find("住民票と住民税"))
    e = restore("Bring theZX1 and ZX2s. ZX", p, small_glossary, "en")
    assert e.text == "Bring theresidence certificate and resident taxs."
    assert "ZX" not in e.text and not e.flagged


def test_placeholder_next_to_digits_stays_separate(small_glossary: Glossary, matcher: TermMatcher) -> None:
    """住民票2通: the placeholder gets a space so it cannot fuse with the count; fused output is split."""
    p = protect("住民票2通と印鑑登録", matcher.find("住民票2通と印鑑登録"))
    assert p.text == "ZX1 2通とZX2"
    assert restore("ZX1 2 bản và ZX2", p, small_glossary, "vi").text == (
        "Giấy chứng nhận cư trú 2 bản và đăng ký con dấu"
    )
    fused = restore("2 copies of ZX12 and ZX2", p, small_glossary, "en")
    assert fused.text == "2 copies of residence certificate2 and seal registration"
    assert not fused.flagged
