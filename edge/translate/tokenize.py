"""Per-format tokenization of MT packs: text ⇄ the token lists CTranslate2 expects.

Each pack format adds its own special tokens around the sentencepiece pieces (CTranslate2 adds none
for Transformers-converted models):

- ``ct2-sentencepiece`` (quickmt, generic): ``source_prefix + pieces + source_suffix``; optional
  ``target_prefix`` from the runtime block.
- ``m2m100``: ``[__src__] + pieces + ["</s>"]``, target prefix ``[__tgt__]`` (codes from
  ``language_codes``, default ``__xx__``).
- ``opus-mt``: pieces (the Marian converter appends ``</s>`` itself); multi-target models take
  ``>>code<<`` first (``target_token_template``).
- ``argos``: pieces from ``sentencepiece.model``; ``target_prefix`` from ``metadata.json`` if present.

Decoding drops the target prefix and every special token, then lets sentencepiece join the pieces,
so no ``▁`` or ``__vi__`` leaks into the text a resident reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import EngineUnavailable

_LOGGER = logging.getLogger(__name__)

MT_FORMATS: tuple[str, ...] = ("ct2-sentencepiece", "m2m100", "opus-mt", "argos")
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
        )


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


@dataclass
class PackCodec:
    """Turns sentences into CTranslate2 source tokens (+ target prefix) and hypotheses back into text."""

    pack: PackView
    source_sp: Any
    target_sp: Any
    source_prefix: list[str] = field(default_factory=list)
    source_suffix: list[str] = field(default_factory=list)
    fixed_target_prefix: list[str] = field(default_factory=list)
    target_token_template: str | None = None

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
        codec = cls(pack=pack, source_sp=source_sp, target_sp=target_sp)
        if fmt == "ct2-sentencepiece":
            codec.source_prefix = list(rt.get("source_prefix") or [])
            codec.source_suffix = list(rt.get("source_suffix") or [])
            codec.fixed_target_prefix = list(rt.get("target_prefix") or [])
        elif fmt == "m2m100":
            codec.source_suffix = ["</s>"]
        elif fmt == "opus-mt":
            codec.target_token_template = rt.get("target_token_template")
        elif fmt == "argos":
            prefix = (rt.get("metadata") or {}).get("target_prefix") or ""
            codec.fixed_target_prefix = [prefix] if prefix else []
        return codec

    def language_code(self, lang: str) -> str:
        """Engine code of ``lang`` (``__ja__`` for M2M-100 unless the manifest maps it)."""
        if lang in self.pack.language_codes:
            return self.pack.language_codes[lang]
        if self.pack.format == "m2m100":
            return f"__{lang}__"
        return lang

    def encode(self, sentences: Sequence[str], source: str, target: str) -> tuple[list[list[str]], list[str]]:
        """Source token lists for ``sentences`` and the target prefix shared by all of them."""
        head = list(self.source_prefix)
        if self.pack.format == "m2m100":
            head = [self.language_code(source), *head]
        elif self.pack.format == "opus-mt" and self.target_token_template:
            code = self.language_code(target)
            token = code if code.startswith(">>") else self.target_token_template.format(code=code)
            head = [token, *head]
        pieces = self.source_sp.encode(list(sentences), out_type=str)
        batch = [head + list(p) + self.source_suffix for p in pieces]
        prefix = (
            [self.language_code(target)] if self.pack.format == "m2m100" else list(self.fixed_target_prefix)
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
    """``__vi__`` (M2M-100) or ``>>vie<<`` (OPUS-MT) style tokens."""
    return (token.startswith("__") and token.endswith("__") and len(token) > 4) or (
        token.startswith(">>") and token.endswith("<<")
    )
