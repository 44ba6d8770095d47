"""Property tests: the readers never crash with anything but GlossaryError; spans stay sane."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glossary import GlossaryError, TermMatcher, load_upload, validate_upload
from glossary.schema import TERM_COLUMNS

HEADER = ",".join(TERM_COLUMNS) + "\n"
japanese = st.text(
    alphabet=st.sampled_from(
        list("住民票の写しうつしじゅうみんひょうマイナンバーカード")
        + list("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ税ぜいたく申込書転入届け　 、。ＡＢ12ｶﾞﾟ゙")
    ),
    max_size=60,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_csv_bytes_never_crash(data: bytes) -> None:
    """Arbitrary bytes: a report, or a GlossaryError when loading."""
    validate_upload("x.csv", data)
    with contextlib.suppress(GlossaryError):
        load_upload("x.csv", data)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_csv_text_after_header_never_crashes(body: str) -> None:
    """Arbitrary text after a valid header (quotes, commas, NULs, CRs): report, never an exception."""
    data = (HEADER + body).encode("utf-8", "surrogatepass")
    with contextlib.suppress(GlossaryError):
        load_upload("x.csv", data)


@settings(max_examples=300)
@given(japanese)
def test_match_spans_are_within_text_and_disjoint(matcher: TermMatcher, text: str) -> None:
    """Every span lies in the text, equals its surface, and no two overlap."""
    matches = matcher.find(text)
    end = 0
    for m in matches:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.surface
        assert m.start >= end
        end = m.end


@settings(max_examples=200)
@given(japanese, st.sampled_from(["en", "vi", "zh", "ko", "ne"]))
def test_protect_restore_round_trip(matcher: TermMatcher, text: str, lang: str) -> None:
    """An MT that copies placeholders gets every approved term back, with no fallback or leak."""
    from glossary import protect, restore

    p = protect(text, matcher.find(text))
    e = restore(p.text, p, matcher.glossary, lang)
    assert e.fallback == () and e.missing == () and not e.flagged
    assert set(e.applied) == set(p.slots)
    assert p.prefix not in e.text
