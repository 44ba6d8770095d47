"""What changed between two glossary versions: added, removed and changed terms and phrases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glossary.schema import Glossary, Phrase, Term


@dataclass(frozen=True)
class Change:
    """One entry present in both versions whose fields differ."""

    id: str
    fields: tuple[str, ...]
    """Changed fields; translations as ``translations.<lang>``."""
    before: dict[str, Any] = field(default_factory=dict, compare=False)
    after: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class GlossaryDiff:
    """Differences from glossary ``a`` to glossary ``b``."""

    added_terms: tuple[str, ...] = ()
    removed_terms: tuple[str, ...] = ()
    changed_terms: tuple[Change, ...] = ()
    added_phrases: tuple[str, ...] = ()
    removed_phrases: tuple[str, ...] = ()
    changed_phrases: tuple[Change, ...] = ()
    version_a: str = ""
    version_b: str = ""

    @property
    def empty(self) -> bool:
        """True when both versions hold the same content."""
        return not (
            self.added_terms
            or self.removed_terms
            or self.changed_terms
            or self.added_phrases
            or self.removed_phrases
            or self.changed_phrases
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""

        def changes(items: tuple[Change, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "id": c.id,
                    "fields": list(c.fields),
                    "before": {f: _get(c.before, f) for f in c.fields},
                    "after": {f: _get(c.after, f) for f in c.fields},
                }
                for c in items
            ]

        return {
            "version_a": self.version_a,
            "version_b": self.version_b,
            "terms": {
                "added": list(self.added_terms),
                "removed": list(self.removed_terms),
                "changed": changes(self.changed_terms),
            },
            "phrases": {
                "added": list(self.added_phrases),
                "removed": list(self.removed_phrases),
                "changed": changes(self.changed_phrases),
            },
        }


def _get(d: Mapping[str, Any], dotted: str) -> Any:
    key, _, sub = dotted.partition(".")
    value = d.get(key)
    if sub and isinstance(value, Mapping):
        return value.get(sub)
    return value


def _changed_fields(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out.extend(f"{key}.{k}" for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k))
        elif va != vb:
            out.append(key)
    return tuple(out)


def _diff_items(
    a: Mapping[str, Term] | Mapping[str, Phrase], b: Mapping[str, Term] | Mapping[str, Phrase]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Change, ...]]:
    added = tuple(sorted(set(b) - set(a)))
    removed = tuple(sorted(set(a) - set(b)))
    changed: list[Change] = []
    for item_id in sorted(set(a) & set(b)):
        da, db = a[item_id].to_dict(), b[item_id].to_dict()
        fields = _changed_fields(da, db)
        if fields:
            changed.append(Change(item_id, fields, da, db))
    return added, removed, tuple(changed)


def diff(a: Glossary, b: Glossary) -> GlossaryDiff:
    """Differences from ``a`` (older) to ``b`` (newer)."""
    at, rt, ct = _diff_items(a.terms, b.terms)
    ap, rp, cp = _diff_items(a.phrases, b.phrases)
    return GlossaryDiff(at, rt, ct, ap, rp, cp, a.version, b.version)
