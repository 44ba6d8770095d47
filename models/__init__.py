"""Model packs: manifest, catalogue, install, verify and locate (imports nothing else of madoguchi)."""

from models.catalogue import DEFAULT_PACKS, Catalogue
from models.errors import (
    ChecksumMismatch,
    DiskFullError,
    LicenseNotAccepted,
    ModelPackError,
    PackFormatError,
    PackNotInstalled,
    PackSourceError,
    UnknownPack,
    UnpinnedPack,
)
from models.fetch import ProgressCallback
from models.install import install_pack
from models.manifest import LicenseInfo, PackFile, PackSource, PackSpec
from models.pins import PinFile, missing_pins
from models.registry import (
    InstalledPack,
    PackStore,
    default_cache_dir,
    default_store_dir,
    madoguchi_home,
    verify_installed,
    verify_pack,
)

__all__ = [
    "DEFAULT_PACKS",
    "Catalogue",
    "ChecksumMismatch",
    "DiskFullError",
    "InstalledPack",
    "LicenseInfo",
    "LicenseNotAccepted",
    "ModelPackError",
    "PackFile",
    "PackFormatError",
    "PackNotInstalled",
    "PackSource",
    "PackSourceError",
    "PackSpec",
    "PackStore",
    "PinFile",
    "ProgressCallback",
    "UnknownPack",
    "UnpinnedPack",
    "default_cache_dir",
    "default_store_dir",
    "install_pack",
    "madoguchi_home",
    "missing_pins",
    "verify_installed",
    "verify_pack",
]
