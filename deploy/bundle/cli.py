"""``madoguchi bundle``: offline bundles for closed networks and Raspberry Pi."""

from __future__ import annotations

import dataclasses
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
        None, "--signing-key", help="The central server's glossary-signing.key."
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
            tar=tar, force=force, source_dir=source,
        )
    )  # fmt: skip
    sizes = ", ".join(f"{part} {size / 1e6:.0f} MB" for part, size in result.sizes_bytes.items())
    typer.echo(
        f"bundle {result.manifest.release_id} ({arch}) in {result.path}: {result.wheel_count} wheels, {sizes}"
    )
    if result.tar_path:
        typer.echo(f"archive: {result.tar_path} ({result.tar_path.stat().st_size / 1e6:.0f} MB)")
    typer.echo(f"built in {time.monotonic() - start:.0f} s; install with: sudo {result.path}/install.sh")


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
    server: str = typer.Option(None, "--server", help="Central server URL (enrolls with --token)."),
    token: str = typer.Option(None, "--token", help="Enrollment token from `madoguchi server enroll`."),
    pubkey: Path = typer.Option(
        None, "--pubkey", help="The server's glossary-signing.pub (pins the bundle key)."
    ),
    port: int = typer.Option(8765, "--port", help="Port of the counter page."),
    systemd_dir: Path = typer.Option(Path("/etc/systemd/system"), "--systemd-dir", hidden=True),
) -> None:
    """Verify and install a bundle offline; switch to it only when it is complete and healthy."""
    from deploy.bundle.install import install_bundle

    start = time.monotonic()
    result = install_bundle(
        InstallOptions(
            bundle_dir=bundle, prefix=prefix, role=role, services=not no_services, kiosk=kiosk,
            server_url=server, token=token, pubkey_path=pubkey, port=port, systemd_dir=systemd_dir,
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


@app.command("verify")
def verify_command(
    bundle: Path = typer.Argument(..., help="The bundle directory."),
    pubkey: Path = typer.Option(None, "--pubkey", help="The server's public key (default: the bundle's)."),
) -> None:
    """Check a bundle's signature and every file's sha256."""
    manifest = verify_bundle(bundle, load_trusted_key(pubkey) if pubkey else None)
    typer.echo(f"bundle {manifest.release_id} ({manifest.arch}) verified: {len(manifest.files)} files")


@app.command("sign")
def sign_command(
    bundle: Path = typer.Argument(..., help="The bundle directory."),
    signing_key: Path = typer.Option(..., "--signing-key", help="The central server's glossary-signing.key."),
    release_id: str = typer.Option(None, "--release-id", help="Give the bundle a new release id."),
) -> None:
    """Sign (again) a bundle directory after changing it, e.g. adding a pack by hand."""
    from deploy.bundle.build import _load_signing_key

    manifest = read_manifest(bundle)
    if release_id:
        manifest = dataclasses.replace(manifest, release_id=release_id)
    packs = tuple(sorted(p.name for p in (bundle / "packs").iterdir() if (p / "pack.json").exists()))
    signed = sign_manifest(bundle, dataclasses.replace(manifest, packs=packs), _load_signing_key(signing_key))
    typer.echo(f"signed {signed.release_id}: {len(signed.files)} files")


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
