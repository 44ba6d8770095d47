"""Offline bundles for closed networks and Raspberry Pi: build, verify, install, roll back.

A bundle is a directory (or ``.tar``) that installs madoguchi with no network at all: the wheels of every
pinned dependency for one architecture, the model packs, the glossary, a thin ``install.sh`` and a manifest
signed with the central server's Ed25519 key. See :mod:`deploy.bundle.build`, :mod:`deploy.bundle.install` and
:mod:`deploy.bundle.manifest`.
"""

from deploy.bundle.build import ARCHES, BuildOptions, BuildResult, build_bundle, platform_tags
from deploy.bundle.install import (
    DEFAULT_PREFIX,
    InstallOptions,
    InstallResult,
    current_release,
    health_check,
    install_bundle,
    releases,
    rollback,
)
from deploy.bundle.manifest import (
    BundleError,
    BundleFile,
    BundleManifest,
    read_manifest,
    sign_manifest,
    verify_bundle,
)

__all__ = [
    "ARCHES",
    "DEFAULT_PREFIX",
    "BuildOptions",
    "BuildResult",
    "BundleError",
    "BundleFile",
    "BundleManifest",
    "InstallOptions",
    "InstallResult",
    "build_bundle",
    "current_release",
    "health_check",
    "install_bundle",
    "platform_tags",
    "read_manifest",
    "releases",
    "rollback",
    "sign_manifest",
    "verify_bundle",
]
