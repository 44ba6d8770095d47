"""glossary.signing: canonical bytes, envelopes, keys."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from glossary.errors import SignatureError
from glossary.signing import (
    canonical_bytes,
    content_sha256,
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_fingerprint,
    public_key_pem,
    sign_envelope,
    verify_envelope,
)
from tests.support.central import make_glossary


def _envelope(number: int = 7) -> tuple[object, dict[str, object]]:
    key = generate_private_key()
    glossary = make_glossary("sig").to_dict()
    return key, sign_envelope(
        key, glossary, version=f"v{number}", number=number, published_at="2026-11-29T04:00:00Z"
    )


def test_canonical_bytes_are_sorted_compact_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": ["住民票", {"d": 2, "c": 3}]}) == (
        '{"a":["住民票",{"c":3,"d":2}],"b":1}'.encode()
    )
    glossary = make_glossary("x")
    assert canonical_bytes(glossary.to_dict()) == glossary.canonical_json()


def test_envelope_verifies_and_survives_json_round_trip() -> None:
    key, envelope = _envelope()
    wire = json.loads(json.dumps(envelope, ensure_ascii=True, indent=2))
    statement = verify_envelope(key.public_key(), wire)  # type: ignore[attr-defined]
    assert (statement.number, statement.version) == (7, "v7")
    assert statement.sha256 == content_sha256(envelope["glossary"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("number", 8), ("version", "v8"), ("published_at", "2030-01-01T00:00:00Z"), ("sha256", "0" * 64)],
)
def test_every_signed_field_is_bound(field: str, value: object) -> None:
    key, envelope = _envelope()
    envelope[field] = value
    with pytest.raises(SignatureError):
        verify_envelope(key.public_key(), envelope)  # type: ignore[attr-defined]


def test_content_change_wrong_key_unsigned_and_garbage_are_refused() -> None:
    key, envelope = _envelope()
    tampered = copy.deepcopy(envelope)
    tampered["glossary"]["terms"][0]["translations"]["vi"] = "evil"  # type: ignore[index]
    with pytest.raises(SignatureError, match="does not match its signed sha256"):
        verify_envelope(key.public_key(), tampered)  # type: ignore[attr-defined]
    with pytest.raises(SignatureError, match="bad signature"):
        verify_envelope(generate_private_key().public_key(), envelope)
    with pytest.raises(SignatureError, match="unsigned"):
        verify_envelope(key.public_key(), {**envelope, "signature": ""})  # type: ignore[attr-defined]
    with pytest.raises(SignatureError, match="base64"):
        verify_envelope(key.public_key(), {**envelope, "signature": "%%%"})  # type: ignore[attr-defined]
    short = base64.b64encode(b"x" * 10).decode()
    with pytest.raises(SignatureError):
        verify_envelope(key.public_key(), {**envelope, "signature": short})  # type: ignore[attr-defined]
    with pytest.raises(SignatureError, match="malformed"):
        verify_envelope(key.public_key(), {"glossary": {}})  # type: ignore[attr-defined]


def test_pem_round_trip_and_errors() -> None:
    key = generate_private_key()
    again = load_private_key(private_key_pem(key))
    assert public_key_pem(again) == public_key_pem(key)
    assert public_key_fingerprint(load_public_key(public_key_pem(key))) == public_key_fingerprint(key)
    with pytest.raises(SignatureError):
        load_public_key(b"not a key")
    with pytest.raises(SignatureError):
        load_private_key(public_key_pem(key))
