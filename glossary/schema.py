"""The glossary's value objects: Term, Phrase, Glossary, and the domain and situation lists.

Design decisions:

- Every object is a frozen dataclass; a new glossary version is a new object, never an edit.
- ``Glossary.to_dict`` is the one on-the-wire form (terms and phrases sorted by id, every field
  present, ``None`` never used for text: an empty field is ``""``). ``canonical_json`` is that dict
  dumped with sorted keys, no ASCII escaping and no spaces, so two machines produce the same bytes.
- ``content_hash`` covers the *content* only (schema, terms, phrases), not ``version`` or
  ``created_at``: the default version is derived from the hash (``sha256:<16 hex>``), and a server
  that stamps its own version string must not change the hash of identical content.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from glossary.errors import SchemaError
from glossary.languages import RESIDENT_LANGUAGES

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1

#: Languages every term and phrase carries a translation for, in column order.
TRANSLATION_LANGUAGES: Final[tuple[str, ...]] = ("en", "vi", "zh", "tl", "pt", "ne", "ko", "id", "es")
assert set(TRANSLATION_LANGUAGES) == set(RESIDENT_LANGUAGES)

STATUSES: Final[tuple[str, ...]] = ("draft", "reviewed")

TERM_COLUMNS: Final[tuple[str, ...]] = (
    "term_id",
    "domain",
    "ja",
    "reading",
    "variants",
    *TRANSLATION_LANGUAGES,
    "easy_ja",
    "explanation_en",
    "status",
    "source",
)
PHRASE_COLUMNS: Final[tuple[str, ...]] = (
    "phrase_id",
    "situation",
    "ja",
    "easy_ja",
    *TRANSLATION_LANGUAGES,
    "status",
    "source",
)


@dataclass(frozen=True)
class Label:
    """A key with its Japanese and English names (for the console and the clerk's screen)."""

    key: str
    ja: str
    en: str


def _labels(rows: Iterable[tuple[str, str, str]]) -> dict[str, Label]:
    return {key: Label(key, ja, en) for key, ja, en in rows}


#: Administrative domains of terms; the key is the prefix of every term id.
DOMAINS: Final[Mapping[str, Label]] = MappingProxyType(
    _labels(
        [
            ("res", "住民登録", "Residence registration"),
            ("mynum", "マイナンバー", "My Number"),
            ("status", "在留資格・在留手続", "Residence status and immigration"),
            ("tax", "税", "Taxes"),
            ("nhi", "国民健康保険", "National Health Insurance"),
            ("pension", "年金", "Pension"),
            ("child", "子育て・保育", "Childcare and nursery admission"),
            ("school", "学校", "School enrollment and school life"),
            ("allow", "手当", "Child allowances"),
            ("waste", "ごみ", "Waste and recycling"),
            ("disaster", "防災・避難", "Disaster preparedness and evacuation"),
            ("health", "健診", "Health checkups"),
        ]
    )
)

#: Counter situations of fixed phrases; the key is the prefix of every phrase id. Every domain
#: key is also a valid situation (phrases about one procedure).
SITUATIONS: Final[Mapping[str, Label]] = MappingProxyType(
    _labels(
        [
            ("reception", "受付・あいさつ", "Reception and greeting"),
            ("identity", "本人確認", "Identity check"),
            ("documents", "書類・持ち物", "Documents to bring"),
            ("forms", "記入・署名", "Filling in forms and signing"),
            ("fees", "手数料・支払い", "Fees and payment"),
            ("deadlines", "期限", "Deadlines"),
            ("waiting", "待ち時間・順番", "Waiting and queue"),
            ("directions", "窓口案内", "Directions to other counters"),
            ("clarification", "確認・聞き返し", "Confirming and asking again"),
            ("interpreter", "通訳・翻訳", "Interpreting and translation"),
            ("closing", "終わりのあいさつ", "Closing"),
            ("moving", "転入・転出", "Moving in and out"),
            ("insurance", "保険", "Health insurance"),
            ("allowance", "手当", "Allowances"),
            ("childcare", "子育て・保育", "Childcare"),
            ("emergency", "緊急時", "Emergencies"),
            *[(d.key, d.ja, d.en) for d in DOMAINS.values()],
        ]
    )
)


def _frozen_translations(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({lang: value[lang] for lang in sorted(value)})


def _translations_from(d: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(d.get("translations", {})).items()}


class _Entry:
    """What terms and phrases share: frozen translations, review status and lookup by language.

    A plain mixin (no fields); ``__hash__`` stays on each dataclass, since a frozen dataclass
    replaces an inherited one with a field hash.
    """

    ja: str
    translations: Mapping[str, str]
    status: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "translations", _frozen_translations(self.translations))

    @property
    def reviewed(self) -> bool:
        """True once a translator signed the entry off."""
        return self.status == "reviewed"

    def translation(self, lang: str) -> str:
        """The approved text in ``lang`` (``ja`` gives the Japanese); ``""`` when none."""
        if lang == "ja":
            return self.ja
        return self.translations.get(lang, "")


@dataclass(frozen=True)
class Term(_Entry):
    """One administrative term: a Japanese headword and its approved translation per language."""

    id: str
    domain: str
    ja: str
    reading: str
    variants: tuple[str, ...] = ()
    translations: Mapping[str, str] = field(default_factory=dict)
    easy_ja: str = ""
    explanation_en: str = ""
    status: str = "draft"
    source: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "variants", tuple(self.variants))

    def __hash__(self) -> int:
        return hash(self.id)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the canonical form)."""
        return {
            "id": self.id,
            "domain": self.domain,
            "ja": self.ja,
            "reading": self.reading,
            "variants": list(self.variants),
            "translations": dict(self.translations),
            "easy_ja": self.easy_ja,
            "explanation_en": self.explanation_en,
            "status": self.status,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Term:
        """Inverse of :meth:`to_dict`; raises SchemaError on a missing key."""
        try:
            return cls(
                id=str(d["id"]),
                domain=str(d["domain"]),
                ja=str(d["ja"]),
                reading=str(d.get("reading", "")),
                variants=tuple(str(v) for v in d.get("variants", ())),
                translations=_translations_from(d),
                easy_ja=str(d.get("easy_ja", "")),
                explanation_en=str(d.get("explanation_en", "")),
                status=str(d.get("status", "draft")),
                source=str(d.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"term entry {d!r:.80} lacks {exc}; export the glossary again") from exc


@dataclass(frozen=True)
class Phrase(_Entry):
    """A verified fixed sentence, used at the counter without machine translation."""

    id: str
    situation: str
    ja: str
    easy_ja: str = ""
    translations: Mapping[str, str] = field(default_factory=dict)
    status: str = "draft"
    source: str = ""

    def __hash__(self) -> int:
        return hash(self.id)

    def translation(self, lang: str) -> str:
        """The sentence in ``lang`` (``ja`` and ``ja-easy`` included); ``""`` when none."""
        if lang == "ja-easy":
            return self.easy_ja
        return super().translation(lang)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the canonical form)."""
        return {
            "id": self.id,
            "situation": self.situation,
            "ja": self.ja,
            "easy_ja": self.easy_ja,
            "translations": dict(self.translations),
            "status": self.status,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Phrase:
        """Inverse of :meth:`to_dict`; raises SchemaError on a missing key."""
        try:
            return cls(
                id=str(d["id"]),
                situation=str(d["situation"]),
                ja=str(d["ja"]),
                easy_ja=str(d.get("easy_ja", "")),
                translations=_translations_from(d),
                status=str(d.get("status", "draft")),
                source=str(d.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"phrase entry {d!r:.80} lacks {exc}; export the glossary again") from exc


def canonical_dumps(data: Any) -> bytes:
    """The canonical JSON bytes of ``data`` (sorted keys, UTF-8, no spaces)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Glossary:
    """One immutable version of the city's terms and phrases.

    ``version`` defaults to ``sha256:<first 16 hex of content_hash>``; a server may stamp its own.
    """

    terms: Mapping[str, Term] = field(default_factory=dict)
    phrases: Mapping[str, Phrase] = field(default_factory=dict)
    version: str = ""
    created_at: str | None = None

    def __post_init__(self) -> None:
        terms = MappingProxyType({k: self.terms[k] for k in sorted(self.terms)})
        phrases = MappingProxyType({k: self.phrases[k] for k in sorted(self.phrases)})
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "phrases", phrases)
        digest = hashlib.sha256(canonical_dumps(self._content_dict())).hexdigest()
        object.__setattr__(self, "_content_hash", digest)
        if not self.version:
            object.__setattr__(self, "version", f"sha256:{digest[:16]}")

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return f"Glossary(version={self.version!r}, terms={len(self.terms)}, phrases={len(self.phrases)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Glossary):
            return NotImplemented
        return (self.content_hash, self.version, self.created_at) == (
            other.content_hash,
            other.version,
            other.created_at,
        )

    @classmethod
    def from_items(
        cls, terms: Iterable[Term] = (), phrases: Iterable[Phrase] = (), **kwargs: Any
    ) -> Glossary:
        """Build from sequences of terms and phrases (ids must be unique)."""
        return cls(terms={t.id: t for t in terms}, phrases={p.id: p for p in phrases}, **kwargs)

    @property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of the content (schema, terms, phrases)."""
        return self._content_hash  # type: ignore[attr-defined]

    def term(self, term_id: str) -> Term:
        """The term with this id; raises KeyError naming the id."""
        try:
            return self.terms[term_id]
        except KeyError:
            raise KeyError(f"no term {term_id!r} in glossary {self.version}") from None

    def phrase(self, phrase_id: str) -> Phrase:
        """The phrase with this id; raises KeyError naming the id."""
        try:
            return self.phrases[phrase_id]
        except KeyError:
            raise KeyError(f"no phrase {phrase_id!r} in glossary {self.version}") from None

    @property
    def languages(self) -> tuple[str, ...]:
        """Translation languages present in at least one term or phrase, in column order."""
        seen = {lang for t in self.terms.values() for lang, v in t.translations.items() if v}
        seen |= {lang for p in self.phrases.values() for lang, v in p.translations.items() if v}
        ordered = [lang for lang in TRANSLATION_LANGUAGES if lang in seen]
        return tuple(ordered + sorted(seen - set(ordered)))

    def with_version(self, version: str, created_at: str | None = None) -> Glossary:
        """The same content stamped with another version (and creation time)."""
        return Glossary(self.terms, self.phrases, version=version, created_at=created_at)

    def _content_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "terms": [t.to_dict() for t in self.terms.values()],
            "phrases": [p.to_dict() for p in self.phrases.values()],
        }

    def to_dict(self) -> dict[str, Any]:
        """The canonical dict: content plus version, created_at and content_hash."""
        d = self._content_dict()
        d["version"] = self.version
        d["created_at"] = self.created_at
        d["content_hash"] = self.content_hash
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Glossary:
        """Inverse of :meth:`to_dict`; checks ``content_hash`` when present.

        Raises:
            SchemaError: unknown schema, malformed entries or a content hash that does not match.
        """
        if not isinstance(d, Mapping):
            raise SchemaError("glossary JSON must be an object; export the glossary again")
        schema = d.get("schema", SCHEMA_VERSION)
        if schema != SCHEMA_VERSION:
            raise SchemaError(
                f"glossary schema {schema!r} is not supported (expected {SCHEMA_VERSION}); "
                "export the glossary again with this madoguchi version"
            )
        terms = [Term.from_dict(t) for t in d.get("terms", [])]
        phrases = [Phrase.from_dict(p) for p in d.get("phrases", [])]
        g = cls.from_items(
            terms, phrases, version=str(d.get("version") or ""), created_at=d.get("created_at")
        )
        expected = d.get("content_hash")
        if expected and expected != g.content_hash:
            raise SchemaError(
                f"glossary content hash mismatch (file says {str(expected)[:16]}…, content is "
                f"{g.content_hash[:16]}…); the file was altered, download it again"
            )
        return g

    def canonical_json(self) -> bytes:
        """Canonical JSON bytes of :meth:`to_dict` (what the server signs and the edge stores)."""
        return canonical_dumps(self.to_dict())

    @classmethod
    def from_json(cls, data: bytes | str) -> Glossary:
        """Parse canonical (or any) JSON produced by :meth:`canonical_json`."""
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SchemaError(f"glossary JSON does not parse ({exc}); export the glossary again") from exc
        return cls.from_dict(parsed)
