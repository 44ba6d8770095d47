"""Unpacking local pack sources into a staging directory: directories, archives, Piper voices, Marian."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from models.errors import ChecksumMismatch, PackFormatError
from models.fetch import ProgressCallback
from models.registry import MANIFEST_NAME
from models.staging import write_file

__all__ = [
    "convert_marian_if_needed",
    "copy_piper",
    "copy_tree",
    "extract_zip",
    "move_payload",
    "relative_files",
]


def relative_files(root: Path) -> list[str]:
    """Every file under ``root`` (relative paths, sorted) but the manifest."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != MANIFEST_NAME
    )


def copy_tree(source: Path, dest: Path, progress: ProgressCallback | None) -> None:
    """Copy a model directory (leftover ``.part`` downloads excluded), hashing as it goes."""
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.endswith(".part"):
            rel = str(path.relative_to(source))
            write_file(dest, rel, [path.open("rb")], None, progress, origin=source.name)


def copy_piper(onnx: Path, dest: Path, progress: ProgressCallback | None) -> None:
    """Copy a Piper voice: the ``.onnx``, its ``.onnx.json`` (required) and a MODEL_CARD beside them."""
    config = onnx.with_name(onnx.name + ".json")
    if not config.is_file():
        raise PackFormatError(
            f"{onnx.name}: the Piper config {config.name} must sit beside the .onnx file; copy both"
        )
    for path in (onnx, config, onnx.with_name("MODEL_CARD")):
        if path.is_file():
            write_file(dest, path.name, [path.open("rb")], None, progress, origin=onnx.name)


def extract_zip(archive: Path, dest: Path) -> None:
    """Extract safely (no absolute or ``..`` paths) and flatten a single top-level folder."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = Path(info.filename).parts
                if info.filename.startswith("/") or ".." in parts:
                    raise PackFormatError(
                        f"{archive.name}: unsafe path {info.filename!r} in the archive; not a pack"
                    )
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise ChecksumMismatch(
            f"{archive.name} is a corrupt archive ({exc}); copy or download it again"
        ) from exc
    entries = [p for p in dest.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        top = entries[0]
        for child in list(top.iterdir()):
            os.replace(child, dest / child.name)
        top.rmdir()


def convert_marian_if_needed(directory: Path, hint: str) -> None:
    """OPUS-MT zips hold Marian weights (``*.npz``); convert them to CTranslate2 int8 in place."""
    if (directory / "model.bin").exists() or not list(directory.glob("*.npz")):
        return
    try:
        from ctranslate2.converters import OpusMTConverter
    except ImportError as exc:
        raise PackFormatError(
            f"{hint}: a Marian (OPUS-MT) model needs ctranslate2 to convert it; install madoguchi[edge]"
        ) from exc
    out = directory / ".ct2"
    OpusMTConverter(str(directory)).convert(str(out), quantization="int8")
    for item in list(directory.iterdir()):
        if item.name not in {".ct2", "source.spm", "target.spm", "decoder.yml", "README.md", "LICENSE"}:
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    for item in out.iterdir():
        os.replace(item, directory / item.name)
    out.rmdir()


def move_payload(payload: Path, tmp: Path) -> Path:
    """The payload was staged in ``tmp/payload``; make it the staging directory itself."""
    for child in list(payload.iterdir()):
        os.replace(child, tmp / child.name)
    payload.rmdir()
    return tmp
