"""``madoguchi models``: list, install, verify, remove and describe model packs.

Errors are raised as :class:`models.errors.ModelPackError`; the root CLI prints them as one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn
from rich.table import Table

from models.catalogue import DEFAULT_PACKS, Catalogue
from models.errors import ModelPackError, PackNotInstalled
from models.install import install_pack
from models.manifest import PackSpec
from models.pins import PIN_FLAG, PinFile, missing_pins
from models.registry import InstalledPack, PackStore, default_store_dir, verify_pack

_LOGGER = logging.getLogger(__name__)

app = typer.Typer(help="Model packs: ASR, MT and TTS models.", no_args_is_help=True)

_STORE_OPTION = typer.Option(None, "--store", help="Pack store directory (default $MADOGUCHI_HOME/packs).")


def _store(store: Path | None) -> PackStore:
    pack_store = PackStore(store or default_store_dir())
    pack_store.clean_leftovers()  # temporary directories of installs that died
    return pack_store


def _mb(size: int | None) -> str:
    if size is None:
        return "?"
    return f"{size / 1e3:,.0f} kB" if size < 1_000_000 else f"{size / 1e6:,.0f} MB"


def _pack_size(spec: PackSpec) -> str:
    """The exact size, or "≥ N MB" from the files whose size the catalogue knows."""
    if spec.size_bytes is not None:
        return _mb(spec.size_bytes)
    known = sum(item.size_bytes or 0 for item in spec.files)
    return f"≥ {_mb(known)}" if known else "?"


def _where_from(spec: PackSpec) -> str:
    source = spec.source
    where = " ".join(source.packages) or source.url or source.repo or source.path or ""
    return f"{where}@{source.revision}" if source.revision else where


def _pinned_short(spec: PackSpec, pins: PinFile) -> str:
    """``yes`` (by the catalogue), ``local`` (recorded on a first install) or ``NO``."""
    if not missing_pins(spec):
        return "yes"
    return "local" if pins.apply(spec)[1] is not None else "NO"


def _pin_status(name: str) -> str:
    """How the catalogue entry ``name`` is pinned: by the catalogue, by a local record, or not at all."""
    catalogue = Catalogue.load()
    if name not in catalogue:
        return "not a catalogue pack"
    spec = catalogue.get(name)
    missing = missing_pins(spec)
    if not missing:
        return "pinned by the catalogue (revision and sha256 of every file)"
    pins = PinFile()
    _, recorded_at = pins.apply(spec)
    if recorded_at is not None:
        return f"pinned locally on {recorded_at} ({pins.path})"
    reason = catalogue.unpinned_reason(name)
    return f"NOT PINNED: lacks {'; '.join(missing)}" + (f" ({reason})" if reason else "")


def _commercial(spec: PackSpec) -> str:
    return {True: "yes", False: "NO (non-commercial)", None: "unverified"}[spec.license.commercial_ok]


@app.command("list")
def list_command(
    installed_only: bool = typer.Option(False, "--installed", help="Only installed packs."),
    store: Path | None = _STORE_OPTION,
) -> None:
    """List catalogue packs (✓ = installed) and installed packs from files."""
    pack_store = _store(store)
    installed = {pack.id: pack for pack in pack_store.installed()}
    catalogue = Catalogue.load()
    specs: list[tuple[PackSpec, bool]] = [
        (spec, spec.id in installed) for spec in catalogue.all() if not installed_only or spec.id in installed
    ]
    specs += [(pack.spec, True) for pack_id, pack in installed.items() if pack_id not in catalogue]
    table = Table(title=f"Model packs ({pack_store.root})")
    for column in ("", "id", "kind", "languages", "size", "licence", "commercial use", "pinned"):
        table.add_column(column, no_wrap=column in ("id", "size"))
    pins = PinFile()
    for spec, is_installed in specs:
        shown = installed[spec.id].spec if is_installed else spec
        langs = " ".join(spec.languages) if len(spec.languages) <= 10 else f"{len(spec.languages)} languages"
        table.add_row(
            "✓" if is_installed else "",
            spec.id,
            spec.kind,
            langs,
            _pack_size(shown),
            spec.license.spdx,
            _commercial(spec),
            _pinned_short(spec, pins) if spec.id in catalogue else "-",
        )
    Console().print(table)


class _RichProgress:
    """Adapts the installer's ``progress(label, done, total)`` callback to rich bars, shown on first use."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self._progress is None:
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
            self._progress = Progress(*columns, console=self._console, transient=True)
            self._progress.start()
        if label not in self._tasks:
            self._tasks[label] = self._progress.add_task(label, total=total)
        self._progress.update(self._tasks[label], completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@app.command("install")
def install_command(
    targets: list[str] = typer.Argument(
        None, help="Pack names, files (.argosmodel, .zip, .onnx), dirs or URLs."
    ),
    defaults: bool = typer.Option(
        False, "--defaults", help="Install the default packs: " + ", ".join(DEFAULT_PACKS)
    ),
    kind: str | None = typer.Option(None, "--kind", help="Expected kind: asr, mt or tts."),
    languages: str | None = typer.Option(None, "--languages", help="Comma-separated codes, e.g. ja,en."),
    accept_noncommercial: bool = typer.Option(
        False, "--accept-noncommercial", help="Allow packs licensed for non-commercial use only."
    ),
    pin_on_first_install: bool = typer.Option(
        False,
        PIN_FLAG,
        help="Allow catalogue packs the catalogue cannot pin: download them, record the revision and each "
        "file's sha256 in the local pin file and verify every later install against that record.",
    ),
    store: Path | None = _STORE_OPTION,
) -> None:
    """Install packs by name, path or URL (already installed and verified packs are skipped)."""
    names = list(targets or []) + (list(DEFAULT_PACKS) if defaults else [])
    if not names:
        raise ModelPackError("nothing to install; name a pack, a file or a URL, or pass --defaults")
    pack_store = _store(store)
    langs = [code.strip() for code in languages.split(",") if code.strip()] if languages else None
    console = Console(stderr=True)
    catalogue = Catalogue.load()
    for name in names:
        progress = _RichProgress(console)
        try:
            pack = install_pack(
                name,
                pack_store,
                progress=progress,
                accept_noncommercial=accept_noncommercial,
                kind=kind,
                languages=langs,
                pin_on_first_install=pin_on_first_install,
            )
        finally:
            progress.close()
        if pack.spec.license.commercial_ok is False:
            typer.echo(
                f"warning: {pack.id} is licensed {pack.spec.license.spdx}: non-commercial use only", err=True
            )
        elif pack.spec.license.commercial_ok is None:
            typer.echo(f"note: the licence of {pack.id} is not verified for commercial use", err=True)
        typer.echo(f"installed {pack.id} {pack.spec.version} ({_mb(pack.spec.size_bytes)}) in {pack.path}")
        if pin_on_first_install and name in catalogue and missing_pins(catalogue.get(name)):
            source = pack.spec.source
            typer.echo(f"pinned {pack.id} at {source.revision or source.sha256} in {PinFile().path}")


@app.command("verify")
def verify_command(
    name: str | None = typer.Argument(None, help="Pack id (default: every installed pack)."),
    quick: bool = typer.Option(False, "--quick", help="Compare sizes only."),
    store: Path | None = _STORE_OPTION,
) -> None:
    """Check the sha256 of every file of installed packs."""
    pack_store = _store(store)
    packs: list[InstalledPack] = [pack_store.get(name)] if name else pack_store.installed()
    if not packs:
        raise PackNotInstalled(
            f"no packs installed in {pack_store.root}; run `madoguchi models install --defaults`"
        )
    for pack in packs:
        verify_pack(pack, quick=quick)
        typer.echo(f"ok {pack.id} ({len(pack.spec.files)} files, {_mb(pack.spec.size_bytes)})")


@app.command("unpin")
def unpin_command(name: str = typer.Argument(..., help="Pack id.")) -> None:
    """Forget the revision and sha256 values recorded for a pack on its first install."""
    pins = PinFile()
    if not pins.remove(name):
        raise PackNotInstalled(f"no local pin recorded for '{name}' in {pins.path}")
    typer.echo(f"unpinned {name}: the next install needs {PIN_FLAG} again")


@app.command("remove")
def remove_command(
    name: str = typer.Argument(..., help="Pack id."), store: Path | None = _STORE_OPTION
) -> None:
    """Delete an installed pack."""
    _store(store).remove(name)
    typer.echo(f"removed {name}")


@app.command("info")
def info_command(
    name: str = typer.Argument(..., help="Pack id."), store: Path | None = _STORE_OPTION
) -> None:
    """Show a pack's manifest: languages, files, licence and where it is installed."""
    pack_store = _store(store)
    if pack_store.is_installed(name):
        pack = pack_store.get(name)
        spec, where = pack.spec, str(pack.path)
    else:
        spec, where = Catalogue.load().get(name), "not installed"
    lines = [
        f"id:          {spec.id}",
        f"kind:        {spec.kind} ({spec.engine}, {spec.format})",
        f"version:     {spec.version}",
        f"description: {spec.description}",
        f"languages:   {', '.join(spec.languages)}",
    ]
    if spec.directions is not None:
        lines.append(f"directions:  {', '.join(f'{s}→{t}' for s, t in spec.directions)}")
    source = spec.source
    lines += [
        f"source:      {source.type} {_where_from(spec)}",
        f"pin:         {_pin_status(name)}",
        f"licence:     {spec.license.spdx}; commercial use: {_commercial(spec)}",
    ]
    if spec.license.attribution:
        lines.append(f"attribution: {spec.license.attribution}")
    if spec.license.notes:
        lines.append(f"notes:       {spec.license.notes}")
    lines += [f"size:        {_pack_size(spec)}", f"installed:   {where}"]
    for item in spec.files:
        lines.append(
            f"  {item.path}  {_mb(item.size_bytes)}  sha256 {item.sha256 or 'unknown (computed on install)'}"
        )
    typer.echo("\n".join(lines))
