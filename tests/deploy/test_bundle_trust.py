"""The trust chain of bundle installs: first install confirmed by IT, pinned key, signed rotations.

The bundles here carry no wheels (glossary, installer, units): every refusal happens before any file of
the bundle is used, so these run in seconds. A prefix counts as "installed" once it pins a key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from deploy.bundle import BuildOptions, build_bundle, read_manifest, sign_manifest, verify_bundle
from deploy.bundle.install import InstallOptions, install_bundle
from deploy.bundle.manifest import BundleError
from deploy.bundle.trust import ROTATION_FILE, pinned_key_path, resolve_trust
from glossary.rotation import make_rotation, write_rotations
from glossary.signing import (
    generate_private_key,
    load_public_key,
    private_key_pem,
    public_key_fingerprint,
    public_key_pem,
)
from tests.support.deploy import madoguchi_command, run


def _key(directory: Path, name: str):  # type: ignore[no-untyped-def]
    key = generate_private_key()
    (directory / f"{name}.key").write_bytes(private_key_pem(key))
    (directory / f"{name}.pub").write_bytes(public_key_pem(key))
    return key


@pytest.fixture
def keys(tmp_path: Path) -> dict:
    directory = tmp_path / "keys"
    directory.mkdir()
    return {name: _key(directory, name) for name in ("it", "new", "attacker")} | {"dir": directory}


def _bundle(tmp_path: Path, keys: dict, name: str, signer: str = "it") -> Path:
    return build_bundle(
        BuildOptions(
            arch="x86_64", out_dir=tmp_path / name, signing_key_path=keys["dir"] / f"{signer}.key",
            include_wheels=False,
        )
    ).path  # fmt: skip


def _installed_prefix(tmp_path: Path, keys: dict) -> Path:
    """A prefix whose first install pinned IT's key (what `install_bundle` leaves in etc/)."""
    prefix = tmp_path / "prefix"
    pinned_key_path(prefix).parent.mkdir(parents=True)
    pinned_key_path(prefix).write_bytes(public_key_pem(keys["it"]))
    return prefix


def _resign(bundle: Path, key) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with the stick does after editing it: new checksums, manifest and signature."""
    manifest = read_manifest(bundle)
    for name in ("SHA256SUMS", "bundle.json", "bundle.sig", "signing.pub"):
        (bundle / name).unlink()
    sign_manifest(bundle, manifest, key)


def _install(bundle: Path, prefix: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run(
        [*madoguchi_command(), "bundle", "install", str(bundle), "--prefix", str(prefix), "--role", "server",
         "--no-services", *args],
        input=stdin, timeout=300,
    )  # fmt: skip


def test_install_sh_changed_after_signing_is_refused_by_an_installed_system(tmp_path: Path, keys) -> None:
    """The stick's install.sh gets a payload. The installed madoguchi refuses the bundle whether the
    attacker leaves the signature alone or re-signs everything with a key of their own (and the stick's
    instructions say to pass that key with --pubkey); nothing of the prefix changes."""
    prefix = _installed_prefix(tmp_path, keys)
    bundle = _bundle(tmp_path, keys, "update")
    script = bundle / "install.sh"
    script.write_text(script.read_text() + "\ntouch /tmp/pwned-by-the-stick\n")

    kept = _install(bundle, prefix)
    assert kept.returncode == 1
    assert "bundle file install.sh" in kept.stderr

    _resign(bundle, keys["attacker"])
    (keys["dir"] / "stick.pub").write_bytes(public_key_pem(keys["attacker"]))
    resigned = _install(bundle, prefix, "--pubkey", str(keys["dir"] / "stick.pub"))
    assert resigned.returncode == 1
    assert "cannot replace it" in resigned.stderr
    plain = _install(bundle, prefix)
    assert plain.returncode == 1 and "bad signature" in plain.stderr
    assert load_public_key(pinned_key_path(prefix).read_bytes()).public_bytes_raw() == (
        keys["it"].public_key().public_bytes_raw()
    )
    assert not (prefix / "releases").exists() and not (prefix / "current").exists()


def test_install_sh_of_a_bundle_hands_an_installed_system_to_its_own_madoguchi(tmp_path: Path, keys) -> None:
    """install.sh never runs an update: on an installed prefix it stops before running anything and names
    the installed madoguchi's command."""
    prefix = _installed_prefix(tmp_path, keys)
    bundle = _bundle(tmp_path, keys, "update")
    completed = subprocess.run(
        [str(bundle / "install.sh"), "--prefix", str(prefix), "--role", "server", "--no-services"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 1
    assert f"{prefix}/current/venv/bin/madoguchi bundle install {bundle}" in completed.stderr
    assert not (prefix / "releases").exists()


def test_pubkey_with_another_key_is_refused_when_a_key_is_pinned(tmp_path: Path, keys) -> None:
    """Even a bundle correctly signed by the other key: the pinned key is never overridden by a flag."""
    prefix = _installed_prefix(tmp_path, keys)
    bundle = _bundle(tmp_path, keys, "other", signer="new")
    with pytest.raises(BundleError, match="cannot replace it"):
        install_bundle(
            InstallOptions(bundle_dir=bundle, prefix=prefix, role="server", services=False,
                           pubkey_path=keys["dir"] / "new.pub")
        )  # fmt: skip
    with pytest.raises(BundleError, match="not the key"):
        resolve_trust(prefix, bundle, None, public_key_fingerprint(keys["new"], full=True))
    assert pinned_key_path(prefix).read_bytes() == public_key_pem(keys["it"])


def test_rotation_signed_by_the_old_key_is_accepted(tmp_path: Path, keys) -> None:
    """IT moves to a new key: the bundle signed by it ships a rotation statement signed by the old key."""
    prefix = _installed_prefix(tmp_path, keys)
    rotation = tmp_path / "rotation.json"
    made = run(
        [*madoguchi_command(), "bundle", "rotate-key", "--old-key", str(keys["dir"] / "it.key"),
         "--new-key", str(keys["dir"] / "new.key"), "--out", str(rotation)],
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    bundle = build_bundle(
        BuildOptions(arch="x86_64", out_dir=tmp_path / "rotated", signing_key_path=keys["dir"] / "new.key",
                     rotation_path=rotation, include_wheels=False)
    ).path  # fmt: skip
    trust = resolve_trust(prefix, bundle, None, None)
    assert trust.fingerprint == public_key_fingerprint(keys["new"], full=True)
    assert trust.rotated_to == [trust.fingerprint] and not trust.first_install
    verify_bundle(bundle, trust.key)
    # without the rotation, the same bundle is another key's: refused
    (bundle / ROTATION_FILE).unlink()
    assert resolve_trust(prefix, bundle, None, None).key.public_bytes_raw() == (
        keys["it"].public_key().public_bytes_raw()
    )
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(bundle, resolve_trust(prefix, bundle, None, None).key)


@pytest.mark.parametrize("forger", ["unsigned", "other"])
def test_rotation_not_signed_by_the_old_key_is_refused(tmp_path: Path, keys, forger: str) -> None:
    """A statement claiming to come from IT's key but signed by another key (or with no valid signature)
    is refused, and so is the bundle that relies on it."""
    prefix = _installed_prefix(tmp_path, keys)
    forged = make_rotation(keys["attacker"], keys["attacker"], "bundle")
    statement = {**forged.statement, "old_key": public_key_fingerprint(keys["it"], full=True)}
    if forger == "unsigned":
        rotation = dataclasses.replace(forged, statement=statement, old_signature="", new_signature="")
    else:
        from glossary.signing import canonical_bytes

        body = canonical_bytes(statement)
        sig = __import__("base64").b64encode(keys["attacker"].sign(body)).decode()
        rotation = dataclasses.replace(forged, statement=statement, old_signature=sig, new_signature=sig)
    path = tmp_path / "rotation.json"
    write_rotations(path, [rotation])
    bundle = build_bundle(
        BuildOptions(arch="x86_64", out_dir=tmp_path / "forged", rotation_path=path, include_wheels=False,
                     signing_key_path=keys["dir"] / "attacker.key")
    ).path  # fmt: skip
    completed = _install(bundle, prefix)
    assert completed.returncode == 1
    assert "not signed by the old and the new key" in completed.stderr
    assert pinned_key_path(prefix).read_bytes() == public_key_pem(keys["it"])


def test_first_install_without_expect_key_refuses_and_prints_fingerprint_and_digest(
    tmp_path: Path, keys
) -> None:
    """Non-interactive (stdin is not a terminal) and no --expect-key: refused before anything is written,
    with the full key fingerprint and the bundle digest (= sha256sum bundle.json) to compare."""
    bundle = _bundle(tmp_path, keys, "first")
    prefix = tmp_path / "fresh"
    completed = _install(bundle, prefix, stdin="y\n")
    assert completed.returncode == 1
    fingerprint = public_key_fingerprint(keys["it"], full=True)
    digest = "sha256:" + hashlib.sha256((bundle / "bundle.json").read_bytes()).hexdigest()
    assert fingerprint in completed.stderr and digest in completed.stderr
    assert f"--expect-key {fingerprint}" in completed.stderr
    assert not pinned_key_path(prefix).exists() and not (prefix / "releases").exists()
    # a wrong fingerprint is refused too; the short (16-digit) form is not accepted as proof
    wrong = _install(bundle, prefix, "--expect-key", public_key_fingerprint(keys["new"], full=True))
    assert wrong.returncode == 1 and "not the expected key" in wrong.stderr
    short = _install(bundle, prefix, "--expect-key", public_key_fingerprint(keys["it"]))
    assert short.returncode == 1 and "not a full key fingerprint" in short.stderr
    assert not pinned_key_path(prefix).exists()


def test_first_install_with_expect_key_or_an_interactive_yes_goes_on(tmp_path: Path, keys) -> None:
    """The confirmation passes with the right fingerprint or a yes; `bundle verify` prints both values."""
    from deploy.bundle.trust import confirm_first_install

    bundle = _bundle(tmp_path, keys, "first")
    prefix = tmp_path / "fresh"
    trust = resolve_trust(prefix, bundle, None, None)
    manifest = verify_bundle(bundle, trust.key)
    fingerprint = public_key_fingerprint(keys["it"], full=True)
    confirm_first_install(trust, bundle, manifest, fingerprint.upper().replace("SHA256", "sha256"), None)
    asked: list[str] = []
    confirm_first_install(trust, bundle, manifest, None, lambda q: asked.append(q) or True)
    assert fingerprint in asked[0]
    with pytest.raises(BundleError, match="expect-key"):
        confirm_first_install(trust, bundle, manifest, None, lambda q: False)
    shown = run([*madoguchi_command(), "bundle", "verify", str(bundle)])
    assert shown.returncode == 0, shown.stderr
    assert f"signing key: {fingerprint}" in shown.stdout
    assert json.loads((bundle / "bundle.json").read_text())["release_id"] in shown.stdout
