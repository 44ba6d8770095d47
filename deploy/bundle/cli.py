"""``madoguchi bundle``: offline bundles for closed networks and Raspberry Pi."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import typer

from deploy.bundle import (
    ARCHES,
    DEFAULT_PREFIX,
    BuildOptions,
    InstallOptions,
    build_bundle,
    current_release,
    read_manifest,
    releases,
    rollback,
    sign_manifest,
    verify_bundle,
)
from deploy.bundle.manifest import BundleError, load_trusted_key
from deploy.bundle.trust import ROTATION_FILE, bundle_digest
from edge.sync.token_input import TOKEN_ENV, read_secret, refuse_argv_secret
from glossary.signing import public_key_fingerprint

app = typer.Typer(
    help="Offline bundles: build on a connected machine, install from a USB stick.", no_args_is_help=True
)

_PREFIX = typer.Option(DEFAULT_PREFIX, "--prefix", help="Installation prefix.")


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(part for value in values for part in value.replace(",", " ").split() if part)


@app.command("build")
def build_command(
    arch: str = typer.Option(..., "--arch", help=f"Target machine: {' | '.join(ARCHES)}."),
    packs: list[str] = typer.Option([], "--packs", help="Pack ids from the local store (comma-separated)."),
    out: Path = typer.Option(..., "--out", help="Bundle directory to write."),
    signing_key: Path = typer.Option(
        None, "--key", "--signing-key", help="The pack/bundle signing key (pack-signing.key; may be offline)."
    ),
    rotation: Path = typer.Option(
        None, "--rotation", help="Key rotation statements to ship (from `madoguchi bundle rotate-key`)."
    ),
    store: Path = typer.Option(None, "--store", help="Local pack store (default: this device's)."),
    tar: bool = typer.Option(False, "--tar", help="Also write DIR.tar."),
    force: bool = typer.Option(False, "--force", help="Replace an existing bundle directory."),
    source: Path = typer.Option(None, "--source", help="madoguchi source checkout (default: this one)."),
) -> None:
    """Build a signed offline bundle: wheelhouse for ARCH, packs, glossary, install.sh."""
    start = time.monotonic()
    result = build_bundle(
        BuildOptions(
            arch=arch, out_dir=out, packs=_split(packs), store_dir=store, signing_key_path=signing_key,
            tar=tar, force=force, source_dir=source, rotation_path=rotation,
        )
    )  # fmt: skip
    sizes = ", ".join(f"{part} {size / 1e6:.0f} MB" for part, size in result.sizes_bytes.items())
    typer.echo(
        f"bundle {result.manifest.release_id} ({arch}) in {result.path}: {result.wheel_count} wheels, {sizes}"
    )
    if result.tar_path:
        typer.echo(f"archive: {result.tar_path} ({result.tar_path.stat().st_size / 1e6:.0f} MB)")
    _echo_identity(result.path)
    typer.echo(f"built in {time.monotonic() - start:.0f} s; install with: sudo {result.path}/install.sh")


def _echo_identity(bundle: Path, key_path: Path | None = None) -> None:
    """Print what IT publishes for a first install: the key fingerprint and the bundle digest."""
    key = load_trusted_key(key_path or bundle / "signing.pub")
    typer.echo(f"signing key: {public_key_fingerprint(key, full=True)}")
    typer.echo(f"bundle digest: {bundle_digest(bundle)}")


@app.command("install")
def install_command(
    bundle: Path = typer.Argument(..., help="The bundle directory (where install.sh is)."),
    prefix: Path = _PREFIX,
    role: str = typer.Option(
        None,
        "--role",
        help="edge (counter device) or server (central server); default: as installed, else edge.",
    ),
    no_services: bool = typer.Option(False, "--no-services", help="Do not install systemd units."),
    kiosk: bool = typer.Option(False, "--kiosk", help="Also install the kiosk unit (chromium --kiosk)."),
    server: str = typer.Option(None, "--server", help="Central server URL (enrolls the device)."),
    token_file: Path = typer.Option(
        None, "--token-file", help=f"File with the enrollment token ('-' = stdin; or ${TOKEN_ENV})."
    ),
    token: str = typer.Option(None, "--token", hidden=True),
    glossary_key: Path = typer.Option(
        None, "--glossary-key", help="The server's glossary-signing.pub (for enrollment)."
    ),
    expect_key: str = typer.Option(
        None,
        "--expect-key",
        help="Full fingerprint of the bundle key (IT's paper): a first install needs it.",
    ),
    pubkey: Path = typer.Option(
        None, "--pubkey", help="The bundle key file for a first install (an update uses the pinned key)."
    ),
    port: int = typer.Option(8765, "--port", help="Port of the counter page."),
    systemd_dir: Path = typer.Option(Path("/etc/systemd/system"), "--systemd-dir", hidden=True),
) -> None:
    """Verify and install a bundle offline; switch to it only when it is complete and healthy."""
    from deploy.bundle.install import install_bundle

    refuse_argv_secret(token, "--token", "--token-file", TOKEN_ENV)
    secret = read_secret(token_file, TOKEN_ENV, "enrollment token") if server else None
    start = time.monotonic()
    result = install_bundle(
        InstallOptions(
            bundle_dir=bundle, prefix=prefix, role=role, services=not no_services, kiosk=kiosk,
            server_url=server, token=secret,
            pubkey_path=pubkey, expect_key=expect_key, glossary_key_path=glossary_key,
            confirm=_ask if sys.stdin.isatty() else None, port=port, systemd_dir=systemd_dir,
        )
    )  # fmt: skip
    typer.echo(f"installed {result.release_id} into {prefix} in {time.monotonic() - start:.0f} s")
    if result.previous and result.previous != result.release_id:
        typer.echo(f"previous release kept: {result.previous} (madoguchi bundle rollback --prefix {prefix})")
    if result.packs_installed:
        typer.echo(f"packs installed: {', '.join(result.packs_installed)}")
    if result.enrolled:
        typer.echo(f"enrolled with {server}")
    if result.services:
        typer.echo(f"systemd units: {', '.join(result.services)}")
    for notice in result.notices:
        typer.echo(f"note: {notice}")


def _ask(question: str) -> bool:
    return typer.confirm(question, default=False, err=True)


@app.command("verify")
def verify_command(
    bundle: Path = typer.Argument(..., help="The bundle directory."),
    pubkey: Path = typer.Option(None, "--pubkey", help="The bundle key (default: the one it ships)."),
) -> None:
    """Check a bundle's signature and every file's sha256; print its key fingerprint and digest."""
    manifest = verify_bundle(bundle, load_trusted_key(pubkey) if pubkey else None)
    typer.echo(f"bundle {manifest.release_id} ({manifest.arch}) verified: {len(manifest.files)} files")
    _echo_identity(bundle, pubkey)


@app.command("sign")
def sign_command(
    bundle: Path = typer.Argument(..., help="The bundle directory."),
    signing_key: Path = typer.Option(
        ..., "--key", "--signing-key", help="The pack/bundle signing key (pack-signing.key; may be offline)."
    ),
    release_id: str = typer.Option(None, "--release-id", help="Give the bundle a new release id."),
    rotation: Path = typer.Option(
        None, "--rotation", help="Key rotation statements to ship (from `madoguchi bundle rotate-key`)."
    ),
) -> None:
    """Sign (again) a bundle directory, e.g. on an offline machine or after adding a pack by hand."""
    import shutil

    from deploy.bundle.build import _load_signing_key

    manifest = read_manifest(bundle)
    if rotation is not None:
        shutil.copyfile(rotation, bundle / ROTATION_FILE)
    if release_id:
        manifest = dataclasses.replace(manifest, release_id=release_id)
    packs = tuple(sorted(p.name for p in (bundle / "packs").iterdir() if (p / "pack.json").exists()))
    signed = sign_manifest(bundle, dataclasses.replace(manifest, packs=packs), _load_signing_key(signing_key))
    typer.echo(f"signed {signed.release_id}: {len(signed.files)} files")
    _echo_identity(bundle)


@app.command("rotate-key")
def rotate_key_command(
    old_key: Path = typer.Option(..., "--old-key", help="The key installed systems trust now (private)."),
    new_key: Path = typer.Option(..., "--new-key", help="The key that replaces it (private)."),
    out: Path = typer.Option(..., "--out", help="Rotation file to write (appended to if it exists)."),
) -> None:
    """Write a rotation statement signed by the old and the new key; ship it with --rotation."""
    from deploy.bundle.build import _load_signing_key
    from deploy.bundle.trust import KEY_PURPOSE
    from glossary.rotation import make_rotation, read_rotations, write_rotations

    rotation = make_rotation(_load_signing_key(old_key), _load_signing_key(new_key), KEY_PURPOSE)
    write_rotations(out, [*read_rotations(out), rotation])
    typer.echo(
        f"rotation {rotation.statement['old_key']} -> {rotation.statement['new_key']} written to {out}"
    )


@app.command("rollback")
def rollback_command(prefix: Path = _PREFIX) -> None:
    """Go back to the previous release (swaps prefix/current and prefix/previous)."""
    before, after = rollback(prefix)
    typer.echo(f"rolled back from {before} to {after}")


@app.command("status")
def status_command(prefix: Path = _PREFIX) -> None:
    """Show the releases of a prefix and which one is current."""
    current = current_release(prefix)
    found = releases(prefix)
    if not found:
        raise BundleError(f"nothing installed in {prefix}")
    for release_id in found:
        typer.echo(f"{'*' if release_id == current else ' '} {release_id}")
