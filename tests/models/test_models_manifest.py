"""Manifest mapping, validation messages and the bundled catalogue."""

from __future__ import annotations

import copy

import pytest

from models import Catalogue, PackFormatError, PackSpec, UnknownPack
from models.catalogue import DEFAULT_PACKS
from models.fetch import hf_file_url

_PACK = {
    "schema": 1,
    "id": "quickmt-ja-en",
    "kind": "mt",
    "engine": "ctranslate2",
    "format": "ct2-sentencepiece",
    "languages": ["ja", "en"],
    "directions": [["ja", "en"]],
    "language_codes": {},
    "version": "1.0",
    "description": "test",
    "source": {"type": "hf", "repo": "quickmt/quickmt-ja-en", "revision": "abc"},
    "files": [{"path": "model.bin", "sha256": "a" * 64, "size_bytes": 3}],
    "size_bytes": 3,
    "license": {"spdx": "CC-BY-4.0", "commercial_ok": True},
    "runtime": {"model_dir": ".", "source_spm": "src.spm.model", "target_spm": "tgt.spm.model"},
}


def test_pack_json_round_trips() -> None:
    """from_dict(to_dict()) is the identity and to_dict reproduces the contract keys."""
    spec = PackSpec.from_dict(_PACK)
    assert spec.to_dict() == _PACK
    assert PackSpec.from_dict(spec.to_dict()) == spec
    assert spec.translates("ja", "en") and not spec.translates("en", "ja")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("kind", "video", "key 'kind' must be one of asr, mt, tts"),
        ("languages", "ja", "key 'languages' must be a list"),
        ("directions", [["ja"]], "key 'directions' must be a list of [source, target] pairs"),
        ("files", [{"path": "../x", "sha256": None}], "key 'files[0].path' must be a relative path"),
        ("files", [{"path": "m", "sha256": "XYZ"}], "key 'files[0].sha256' must be 64 lowercase hex"),
        ("license", {"commercial_ok": True}, "key 'license.spdx' is missing"),
        ("source", {"type": "pypi", "packages": ["foo"]}, "key 'source.packages' must pin every package"),
    ],
)
def test_validation_names_file_key_and_fix(key: str, value: object, expected: str) -> None:
    """A bad key fails with the file name, the key path and the fix."""
    data = copy.deepcopy(_PACK)
    data[key] = value
    with pytest.raises(PackFormatError) as info:
        PackSpec.from_dict(data, "/store/x/pack.json")
    message = str(info.value)
    assert message.startswith("/store/x/pack.json: ")
    assert expected in message
    assert "reinstall" in message and "\n" not in message


def test_missing_key_and_newer_schema() -> None:
    data = copy.deepcopy(_PACK)
    del data["id"]
    with pytest.raises(PackFormatError, match="key 'id' is missing"):
        PackSpec.from_dict(data)
    with pytest.raises(PackFormatError, match="upgrade madoguchi"):
        PackSpec.from_dict({**_PACK, "schema": 99})


def test_catalogue_defaults_record_real_checksums() -> None:
    """The three default packs are PyPI packs with a sha256 and size for every file."""
    catalogue = Catalogue.load()
    for name in DEFAULT_PACKS:
        spec = catalogue.get(name)
        assert spec.source.type == "pypi"
        assert spec.files and all(f.sha256 and f.size_bytes and f.parts for f in spec.files)
    base = catalogue.get("whisper-base")
    model = next(f for f in base.files if f.path == "model.bin")
    assert len(model.parts) == 2 and model.size_bytes == 145217607
    assert "ja" in base.languages and len(base.languages) == 99
    assert catalogue.get("whisper-tiny").languages == ("en",)


def test_catalogue_online_packs() -> None:
    """Online packs carry licences; Japanese and Korean Piper voices are flagged non-commercial."""
    catalogue = Catalogue.load()
    by_kind = {kind: [s for s in catalogue.all() if s.kind == kind] for kind in ("asr", "mt", "tts")}
    assert {"quickmt-ja-en", "quickmt-en-vi", "m2m100-418m", "opus-mt-ja-en", "argos-ja-en"} <= {
        s.id for s in by_kind["mt"]
    }
    m2m = catalogue.get("m2m100-418m")
    assert m2m.directions is None and m2m.translates("ja", "tl") and m2m.engine_code("ne") == "__ne__"
    tts_languages = {lang for s in by_kind["tts"] for lang in s.languages}
    assert {"vi", "zh", "pt", "ne", "id", "es", "en"} <= tts_languages
    for voice in ("piper-ja_JP-hi_fi_captain-medium", "piper-ko_KR-kss-medium"):
        assert catalogue.get(voice).license.commercial_ok is False
    assert all(s.source.type in ("pypi", "npm", "hf", "url") for s in catalogue.all())


def test_hf_urls_are_quoted() -> None:
    """Hub resolve URLs quote non-ASCII voice paths and pin the revision."""
    url = hf_file_url("rhasspy/piper-voices", "c10ece1", "pt/pt_PT/tugão/medium/pt_PT-tugão-medium.onnx")
    assert url == (
        "https://huggingface.co/rhasspy/piper-voices/resolve/c10ece1/"
        "pt/pt_PT/tug%C3%A3o/medium/pt_PT-tug%C3%A3o-medium.onnx"
    )


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UnknownPack, match="did you mean whisper-base"):
        Catalogue.load().get("whisper-bsae")
    with pytest.raises(UnknownPack, match="madoguchi models list"):
        Catalogue.load().get("zzzzzz")
