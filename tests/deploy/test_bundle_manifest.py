"""The bundle manifest: signature, checksums, tampering, and install.sh's own checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.bundle import BuildOptions, BundleError, build_bundle, verify_bundle
from deploy.bundle.manifest import load_trusted_key


@pytest.fixture
def small_bundle(signing_key, tmp_path: Path) -> Path:
    """A bundle without wheels or packs (glossary, installer, units): cheap to tamper with."""
    result = build_bundle(
        BuildOptions(
            arch="x86_64", out_dir=tmp_path / "b", signing_key_path=signing_key[0], include_wheels=False
        )
    )
    return result.path


def test_signed_bundle_verifies_with_the_server_key(small_bundle: Path, signing_key) -> None:
    manifest = verify_bundle(small_bundle, load_trusted_key(signing_key[1]))
    listed = {item.path: item for item in manifest.files}
    assert set(listed) >= {"install.sh", "glossary/glossary.json", "deploy/madoguchi-edge.service"}
    assert all(len(item.sha256) == 64 and item.size_bytes > 0 for item in manifest.files)
    sums = (small_bundle / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == len(manifest.files)
    assert json.loads((small_bundle / "bundle.json").read_text())["purpose"] == "madoguchi-bundle"


def test_one_changed_byte_is_refused(small_bundle: Path, signing_key) -> None:
    path = small_bundle / "glossary" / "glossary.json"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="corrupt"):
        verify_bundle(small_bundle, load_trusted_key(signing_key[1]))


def test_an_added_file_is_refused(small_bundle: Path, signing_key) -> None:
    (small_bundle / "wheelhouse").mkdir(exist_ok=True)
    (small_bundle / "wheelhouse" / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")
    with pytest.raises(BundleError, match="unsigned file"):
        verify_bundle(small_bundle, load_trusted_key(signing_key[1]))


def test_an_edited_manifest_fails_the_signature(small_bundle: Path, signing_key) -> None:
    manifest = json.loads((small_bundle / "bundle.json").read_text())
    manifest["release_id"] = "9.9.9"
    (small_bundle / "bundle.json").write_text(json.dumps(manifest, sort_keys=True, separators=(",", ":")))
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(small_bundle, load_trusted_key(signing_key[1]))


def test_another_servers_key_is_refused(small_bundle: Path, tmp_path: Path) -> None:
    from glossary.signing import generate_private_key, public_key_pem

    other = tmp_path / "other.pub"
    other.write_bytes(public_key_pem(generate_private_key()))
    with pytest.raises(BundleError, match="bad signature"):
        verify_bundle(small_bundle, load_trusted_key(other))


def test_install_sh_refuses_a_damaged_bundle_before_running_python(
    small_bundle: Path, tmp_path: Path
) -> None:
    path = small_bundle / "deploy" / "madoguchi-edge.service"
    path.write_text(path.read_text() + "\n# changed\n")
    completed = subprocess.run(
        [str(small_bundle / "install.sh"), "--prefix", str(tmp_path / "p"), "--no-services",
         "--role", "server"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 1
    assert "damaged" in completed.stderr
    assert not (tmp_path / "p").exists()


def test_install_sh_names_missing_debian_packages(small_bundle: Path, tmp_path: Path) -> None:
    """With no python3.11 on PATH the installer names the package to install and stops."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("sh", "uname", "dirname", "sed", "ls", "grep", "env"):
        found = shutil.which(tool)
        if found:
            (fake_bin / tool).symlink_to(found)
    completed = subprocess.run(
        ["/bin/sh", str(small_bundle / "install.sh"), "--prefix", str(tmp_path / "p"), "--kiosk"],
        capture_output=True, text=True, env={"PATH": str(fake_bin)},
    )  # fmt: skip
    assert completed.returncode == 1
    assert "missing Debian packages" in completed.stderr
    assert "python3.11" in completed.stderr and "chromium" in completed.stderr


def test_install_sh_refuses_another_architecture(small_bundle: Path, tmp_path: Path, signing_key) -> None:
    arm = build_bundle(
        BuildOptions(
            arch="aarch64", out_dir=tmp_path / "arm", signing_key_path=signing_key[0], include_wheels=False
        )
    )
    completed = subprocess.run([str(arm.path / "install.sh"), "--prefix", str(tmp_path / "p")],
                               capture_output=True, text=True)  # fmt: skip
    assert completed.returncode == 1
    assert "this bundle is for aarch64" in completed.stderr
