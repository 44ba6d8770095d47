"""Errors of the model store.

ModelPackError
 ├── UnknownPack          no pack of that name in the catalogue
 ├── PackNotInstalled     the pack is in the catalogue but not installed
 ├── PackSourceError      the source cannot be reached (no network, 404, missing file)
 ├── ChecksumMismatch     a file's sha256 differs from the manifest (corrupt or partial)
 ├── PackFormatError      the files are not a pack of the declared kind/format
 ├── DiskFullError        no space left while installing
 ├── LicenseNotAccepted   a non-commercial pack needs an explicit flag
 └── UnpinnedPack         a catalogue entry without a full pin needs IT's explicit opt-in
"""

from __future__ import annotations


class ModelPackError(Exception):
    """Base of every model store error; the message is one actionable line."""


class UnknownPack(ModelPackError):
    """The name is not in the catalogue."""


class PackNotInstalled(ModelPackError):
    """The pack is known but not installed."""


class PackSourceError(ModelPackError):
    """The pack's source could not be read (network, HTTP status, missing path)."""


class ChecksumMismatch(ModelPackError):
    """A file's sha256 does not match the manifest."""


class PackFormatError(ModelPackError):
    """The files do not form a pack of the declared kind and format."""


class DiskFullError(ModelPackError):
    """The pack store ran out of space."""


class LicenseNotAccepted(ModelPackError):
    """Installing a non-commercial pack needs ``--accept-noncommercial``."""


class UnpinnedPack(ModelPackError):
    """A catalogue entry lacks a commit revision or a file's sha256; ``--pin-on-first-install`` opts in."""
