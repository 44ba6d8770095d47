"""Per-format tokenization of MT packs: text ⇄ the token lists CTranslate2 expects.

The token layout and search settings of each format come from its decoding profile
(``models.profiles``, cited from each upstream project): ``</s>`` where upstream appends it, the
M2M-100/NLLB language codes, the OPUS-MT ``>>code<<`` token, the Argos ``metadata.json`` target prefix,
and the OPUS-MT punctuation normalisation (sacremoses). Every special token a pack needs is checked
against its vocabulary when it loads: a pack lacking one is refused naming the token, instead of
steering the decoder with ``<unk>``.

Decoding drops the target prefix and every special token, then lets sentencepiece join the pieces,
so no ``▁`` or ``__vi__`` leaks into the text a resident reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable
from models.detect import NLLB_CODES
from models.profiles import DecodingProfile, profile_for

_LOGGER = logging.getLogger(__name__)

MT_FORMATS: tuple[str, ...] = ("ct2-sentencepiece", "m2m100", "nllb", "opus-mt", "argos")
_SPECIAL_TOKENS = frozenset({"<s>", "</s>", "<pad>", "<unk>", "<blank>"})


def pack_fix_hint(pack_id: str) -> str:
    """The one fix for a broken pack, as printed in every load error."""
    return f"run `madoguchi models verify {pack_id}` and reinstall the pack if it fails"


@dataclass(frozen=True)
class PackView:
    """The fields of an installed MT pack the MT layer reads (duck-typed over ``models.InstalledPack``)."""

    id: str
    path: Path
    format: str
    runtime: Mapping[str, Any]
    language_codes: Mapping[str, str]
    languages: tuple[str, ...] = ()

    @classmethod
    def of(cls, pack: Any) -> PackView:
        """The view of an installed pack, or of any object with its ``spec`` and ``path`` fields."""
        spec = getattr(pack, "spec", pack)
        pack_id = getattr(pack, "id", None) or getattr(spec, "id", "?")
        return cls(
            id=str(pack_id),
            path=Path(pack.path),
            format=str(getattr(spec, "format", "")),
            runtime=dict(getattr(spec, "runtime", None) or {}),
            language_codes=dict(getattr(spec, "language_codes", None) or {}),
            languages=tuple(getattr(spec, "languages", None) or ()),
        )

    @property
    def model_dir(self) -> Path:
        """The CTranslate2 model directory (``runtime.model_dir``; ``model/`` for Argos)."""
        default = "model" if self.format == "argos" else "."
        return self.path / str(self.runtime.get("model_dir") or default)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def load_sentencepiece(pack: PackView, file_name: str) -> Any:
    """Load one sentencepiece model of ``pack`` or raise ``EngineUnavailable`` naming the fix."""
    import sentencepiece as spm

    path = pack.path / file_name
    if not path.is_file():
        raise EngineUnavailable(
            f"MT pack {pack.id}: tokenizer {file_name} missing in {pack.path}; {pack_fix_hint(pack.id)}"
        )
    try:
        return spm.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise EngineUnavailable(
            f"MT pack {pack.id}: tokenizer {path} unreadable ({_one_line(exc)}); {pack_fix_hint(pack.id)}"
        ) from exc


def read_vocabulary(model_dir: Path, side: str) -> set[str] | None:
    """Tokens of a CTranslate2 model's ``side`` (source/target) vocabulary; None when no file is found."""
    for name in (f"{side}_vocabulary", "shared_vocabulary"):
        for suffix, loader in ((".json", _json_tokens), (".txt", _txt_tokens)):
            path = model_dir / f"{name}{suffix}"
            if path.is_file():
                return loader(path)
    return None


def _json_tokens(path: Path) -> set[str]:
    return set(json.loads(path.read_text(encoding="utf-8")))


def _txt_tokens(path: Path) -> set[str]:
    return {line.rstrip("\n") for line in path.open(encoding="utf-8")}


class Normaliser:
    """Source-text normalisation a format was trained with (sacremoses; none for most formats)."""

    def __init__(self, kind: str | None, language: str) -> None:
        self.kind = kind
        self._moses: Any = None
        if kind in ("opus-spm", "moses-punct"):
            from sacremoses import MosesPunctNormalizer

            self._moses = MosesPunctNormalizer(lang=language)

    def __call__(self, text: str) -> str:
        """``text`` as the model saw its training data."""
        if self._moses is None or not text:
            return text
        if self.kind == "moses-punct":
            return self._moses.normalize(text)
        # OPUS-MT-train preprocess-spm.sh: the unicode punctuation table, control characters, spaces.
        text = self._moses.remove_control_chars(self._moses.replace_unicode_punct(text))
        return " ".join(text.split())


@dataclass
class PackCodec:
    """Turns sentences into CTranslate2 source tokens (+ target prefix) and hypotheses back into text."""

    pack: PackView
    source_sp: Any
    target_sp: Any
    profile: DecodingProfile
    source_prefix: list[str] = field(default_factory=list)
    source_suffix: list[str] = field(default_factory=list)
    fixed_target_prefix: list[str] = field(default_factory=list)
    target_token_template: str | None = None
    _normalisers: dict[str, Normaliser] = field(default_factory=dict)

    @classmethod
    def for_pack(cls, pack: PackView) -> PackCodec:
        """The codec of a pack's format and runtime; raises EngineUnavailable for an unknown one."""
        fmt, rt = pack.format, pack.runtime
        if fmt not in MT_FORMATS:
            raise EngineUnavailable(
                f"MT pack {pack.id} has format {fmt!r}, not one of {', '.join(MT_FORMATS)}; "
                f"{pack_fix_hint(pack.id)}"
            )
        defaults = {
            "m2m100": ("sentencepiece.bpe.model", "sentencepiece.bpe.model"),
            "nllb": ("sentencepiece.bpe.model", "sentencepiece.bpe.model"),
            "opus-mt": ("source.spm", "target.spm"),
            "argos": ("sentencepiece.model", "sentencepiece.model"),
            "ct2-sentencepiece": ("src.spm.model", "tgt.spm.model"),
        }[fmt]
        src_name = str(rt.get("source_spm") or defaults[0])
        tgt_name = str(rt.get("target_spm") or defaults[1])
        if fmt == "argos" and not (pack.path / src_name).is_file() and (pack.path / "bpe.model").is_file():
            raise EngineUnavailable(
                f"MT pack {pack.id} is an Argos BPE package (bpe.model), which needs Moses tokenization; "
                "install a sentencepiece-based pack for this pair instead"
            )
        source_sp = load_sentencepiece(pack, src_name)
        target_sp = source_sp if tgt_name == src_name else load_sentencepiece(pack, tgt_name)
        profile = profile_for(fmt, rt, pack.path, pack.model_dir)
        codec = cls(pack=pack, source_sp=source_sp, target_sp=target_sp, profile=profile)
        codec.source_prefix = list(rt.get("source_prefix") or [])
        suffix = rt.get("source_suffix")
        codec.source_suffix = list(profile.source_suffix if suffix is None else suffix)
        codec.fixed_target_prefix = list(rt.get("target_prefix") or [])
        if profile.metadata_target_prefix and not codec.fixed_target_prefix:
            prefix = (rt.get("metadata") or {}).get("target_prefix") or ""
            codec.fixed_target_prefix = [prefix] if prefix else []
        if fmt == "opus-mt":
            codec.target_token_template = rt.get("target_token_template")
        return codec

    def language_code(self, lang: str) -> str:
        """Engine code of ``lang``: the manifest's, else ``__ja__`` (M2M-100) or ``jpn_Jpan`` (NLLB)."""
        if lang in self.pack.language_codes:
            return self.pack.language_codes[lang]
        if self.pack.format == "m2m100":
            return f"__{lang}__"
        if self.pack.format == "nllb":
            return NLLB_CODES.get(lang, lang)
        return lang

    def _target_token(self, target: str) -> str:
        code = self.language_code(target)
        assert self.target_token_template is not None
        return code if code.startswith(">>") else self.target_token_template.format(code=code)

    def required_tokens(self) -> tuple[list[str], list[str]]:
        """(source, target) special tokens this codec will feed the model for the pack's languages."""
        langs = list(self.pack.languages) or list(self.pack.language_codes)
        source = [*self.source_prefix, *self.source_suffix]
        target = list(self.fixed_target_prefix)
        if self.profile.source_language_token:
            source += [self.language_code(lang) for lang in langs]
        if self.profile.target_language_prefix:
            target += [self.language_code(lang) for lang in langs]
        if self.target_token_template:
            source += [self._target_token(lang) for lang in langs if lang in self.pack.language_codes]
        return source, target

    def check_vocabulary(self, model_dir: Path) -> None:
        """Refuse the pack when its vocabulary lacks a special token this codec would feed the model."""
        source_needed, target_needed = self.required_tokens()
        for side, needed in (("source", source_needed), ("target", target_needed)):
            vocab = read_vocabulary(model_dir, side)
            if vocab is None:
                continue
            missing = [token for token in dict.fromkeys(needed) if token not in vocab]
            if missing:
                raise EngineUnavailable(
                    f"MT pack {self.pack.id} ({self.pack.format}, profile {self.profile.name}): token "
                    f"{missing[0]!r} is not in its {side} vocabulary, so the model would see <unk>; the "
                    "pack's format or language codes are wrong — reinstall it from its catalogue entry "
                    "or pass the right --languages/format"
                )

    def normalise(self, text: str, source: str) -> str:
        """The source text as the model's training data was normalised (per the profile)."""
        if self.profile.normalisation is None:
            return text
        normaliser = self._normalisers.get(source)
        if normaliser is None:
            normaliser = self._normalisers[source] = Normaliser(self.profile.normalisation, source)
        return normaliser(text)

    def source_length(self, sentence: str, source: str) -> int:
        """Number of source tokens ``sentence`` becomes (pieces + special tokens)."""
        pieces = self.source_sp.encode(self.normalise(sentence, source), out_type=str)
        extra = len(self.source_prefix) + len(self.source_suffix)
        extra += int(self.profile.source_language_token) + int(bool(self.target_token_template))
        return len(pieces) + extra

    def encode(self, sentences: Sequence[str], source: str, target: str) -> tuple[list[list[str]], list[str]]:
        """Source token lists for ``sentences`` and the target prefix shared by all of them."""
        head = list(self.source_prefix)
        if self.profile.source_language_token:
            head = [self.language_code(source), *head]
        elif self.target_token_template:
            head = [self._target_token(target), *head]
        texts = [self.normalise(s, source) for s in sentences]
        pieces = self.source_sp.encode(texts, out_type=str)
        batch = [head + list(p) + self.source_suffix for p in pieces]
        prefix = (
            [self.language_code(target)]
            if self.profile.target_language_prefix
            else list(self.fixed_target_prefix)
        )
        return batch, prefix

    def decode(self, tokens: Sequence[str], target_prefix: Sequence[str]) -> str:
        """Text of one hypothesis: prefix and special tokens removed, pieces joined by sentencepiece."""
        start = len(target_prefix) if list(tokens[: len(target_prefix)]) == list(target_prefix) else 0
        drop = _SPECIAL_TOKENS | set(self.pack.language_codes.values()) | set(target_prefix)
        kept = [t for t in tokens[start:] if t not in drop and not _is_language_token(t)]
        text = self.target_sp.decode_pieces(kept)
        # Pieces missing from the tokenizer (vocabulary/tokenizer mismatch) come back raw: no ▁ may leak.
        return " ".join(text.replace("\u2581", " ").split()) if "\u2581" in text else text.strip()


def _is_language_token(token: str) -> bool:
    """``__vi__`` (M2M-100), ``vie_Latn`` (NLLB) or ``>>vie<<`` (OPUS-MT) style tokens."""
    if token in NLLB_CODES.values():
        return True
    return (token.startswith("__") and token.endswith("__") and len(token) > 4) or (
        token.startswith(">>") and token.endswith("<<")
    )
