"""Fixtures of the deployment tests: a signing key, real bundles, an offline install in a network namespace.

The bundles are built for real (pip download of every pinned dependency, cached under
``~/.cache/madoguchi/wheelhouse-<arch>``); the first run downloads ~270 MB per architecture.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deploy import (
    built_once,
    can_unshare_net,
    key_fingerprint,
    madoguchi_command,
    offline_command,
    run,
)

BUNDLE_PACKS = ("whisper-tiny", "whisper-base")


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh pack/bundle key (private, public) as `madoguchi server keygen --purpose pack` writes it."""
    from glossary.signing import generate_private_key, private_key_pem, public_key_pem

    def write(directory: Path) -> None:
        key = generate_private_key()
        (directory / "pack-signing.key").write_bytes(private_key_pem(key))
        (directory / "pack-signing.pub").write_bytes(public_key_pem(key))

    directory = built_once(tmp_path_factory, "keys", write)  # the bundles below are signed with it
    return directory / "pack-signing.key", directory / "pack-signing.pub"


@pytest.fixture(scope="session")
def x86_bundle(default_store, signing_key, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An x86_64 bundle with whisper-tiny and whisper-base, built by the real CLI (once per run)."""

    def build(directory: Path) -> None:
        completed = run(
            [*madoguchi_command(), "bundle", "build", "--arch", "x86_64", "--packs", ",".join(BUNDLE_PACKS),
             "--store", str(default_store.root), "--out", str(directory / "madoguchi-x86_64"),
             "--signing-key", str(signing_key[0])],
            timeout=1800,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-2000:]

    return built_once(tmp_path_factory, "x86-bundle", build) / "madoguchi-x86_64"


@pytest.fixture(scope="session")
def offline_install(x86_bundle, signing_key, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """install.sh run inside a network namespace with only loopback (no network at all), under strace."""
    if not can_unshare_net():
        pytest.skip("needs root and `unshare -n` (a network namespace) to prove the install is offline")
    prefix = tmp_path_factory.mktemp("offline") / "opt-madoguchi"
    trace = prefix.parent / "install.strace"
    install = (
        f"{x86_bundle}/install.sh --prefix {prefix} --no-services --pubkey {signing_key[1]} "
        f"--expect-key {key_fingerprint(signing_key[1])}"
    )
    completed = run(offline_command(f"ip link set lo up; {install}", trace), timeout=1800)
    return prefix, completed, trace if trace.exists() else None
