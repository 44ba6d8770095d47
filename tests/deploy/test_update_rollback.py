"""Updates keep the previous release; a broken one rolls back; a power cut at any step leaves one working.

These install the x86_64 bundle as ``--role server`` (the smaller dependency set, same mechanism) into
their own prefix, with the development checkout's madoguchi playing the installed, trusted release.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy.bundle import health_check, platform_tags, read_manifest, sign_manifest
from deploy.bundle.build import _load_signing_key
from deploy.bundle.hashes import write_hashed_requirements
from tests.support.deploy import key_fingerprint, madoguchi_command, run

pytestmark = pytest.mark.slow  # end to end through real processes


def derive_bundle(source: Path, dest: Path, key_path: Path, release_id: str, *, broken: bool = False) -> Path:
    """A copy of ``source`` signed as a new release; ``broken`` makes its madoguchi fail at import."""
    shutil.copytree(source, dest, copy_function=os.link)
    if broken:
        wheel = next((dest / "wheelhouse").glob("madoguchi-*.whl"))
        data = wheel.read_bytes()
        wheel.unlink()  # a hard link to the good bundle: never write through it
        with (
            zipfile.ZipFile(_bytes_io(data)) as good,
            zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as bad,
        ):
            for item in good.infolist():
                body = good.read(item)
                if item.filename == "madoguchi/__init__.py":
                    body = b'raise ImportError("deliberately broken release")\n'
                bad.writestr(item, body)
        # as a rebuild would: the wheelhouse's hash-pinned requirements name the new wheel
        write_hashed_requirements(
            dest / "wheelhouse", read_manifest(dest).version, platform_tags("x86_64"), "3.11"
        )
    manifest = dataclasses.replace(read_manifest(dest), release_id=release_id)
    for name in ("SHA256SUMS", "bundle.json", "bundle.sig", "signing.pub"):
        (dest / name).unlink()
    sign_manifest(dest, manifest, _load_signing_key(key_path))
    return dest


def _bytes_io(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


def install(bundle: Path, prefix: Path, pubkey: Path, *role: str, **env: str):  # type: ignore[no-untyped-def]
    """`madoguchi bundle install`; the role is given once, later installs keep the prefix's role."""
    return run(
        [*madoguchi_command(), "bundle", "install", str(bundle), "--prefix", str(prefix), *role,
         "--no-services", "--pubkey", str(pubkey), "--expect-key", key_fingerprint(pubkey)],
        env=env, timeout=900,
    )  # fmt: skip


def assert_server_release(prefix: Path) -> None:
    """The running release is the server role: no speech runtimes installed."""
    assert "MADOGUCHI_ROLE=server" in (prefix / "etc" / "madoguchi.env").read_text()
    site = next((prefix / "current" / "venv" / "lib").glob("python3.*/site-packages"))
    assert (site / "sqlalchemy").is_dir() and not (site / "ctranslate2").exists()


@pytest.fixture(scope="module")
def server_prefix(x86_bundle, signing_key, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("update") / "prefix"
    completed = install(x86_bundle, prefix, signing_key[1], "--role", "server")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert_server_release(prefix)
    return prefix


def test_broken_update_rolls_back(server_prefix, x86_bundle, signing_key, tmp_path) -> None:
    """A correctly signed release whose madoguchi cannot start: after a power cut right after the switch the
    boot guard goes back; installed normally, the health check fails and `current` goes back at once."""
    good = os.readlink(server_prefix / "current")
    broken = derive_bundle(x86_bundle, tmp_path / "broken", signing_key[0], "9.9.9-broken", broken=True)

    # Power cut after the switch, before the health check: the broken release is current...
    killed = install(broken, server_prefix, signing_key[1], MADOGUCHI_BUNDLE_FAULT="health")
    assert killed.returncode == -9
    assert os.readlink(server_prefix / "current") == "releases/9.9.9-broken"
    assert (server_prefix / ".health-pending").exists()
    # ...and the guard the units run before starting (plain sh) goes back to the good one.
    guard = subprocess.run(["/bin/sh", str(server_prefix / "etc" / "health-guard.sh"), str(server_prefix)],
                           capture_output=True, text=True)  # fmt: skip
    assert guard.returncode == 0, guard.stderr
    assert "rolled back" in guard.stderr
    assert os.readlink(server_prefix / "current") == good
    assert not (server_prefix / ".health-pending").exists()

    # A normal install of the broken release: switched to, checked, switched back.
    previous_before = _target(server_prefix / "previous")
    completed = install(broken, server_prefix, signing_key[1])
    assert completed.returncode == 1
    assert "failed its health check" in completed.stderr and "rolled back" in completed.stderr
    assert os.readlink(server_prefix / "current") == good
    assert _target(server_prefix / "previous") == previous_before
    assert not (server_prefix / "releases" / "9.9.9-broken").exists()
    assert health_check(server_prefix, "server") is None


def _target(link: Path) -> str | None:
    return os.readlink(link) if link.is_symlink() else None


def test_bundle_signed_by_another_key_is_refused(server_prefix, x86_bundle, tmp_path) -> None:
    """The prefix pins the server's key: a bundle signed by someone else never installs."""
    from glossary.signing import generate_private_key, private_key_pem

    other = tmp_path / "other.key"
    other.write_bytes(private_key_pem(generate_private_key()))
    before = os.readlink(server_prefix / "current")
    forged = derive_bundle(x86_bundle, tmp_path / "forged", other, "0.1.0-forged")
    completed = run(
        [*madoguchi_command(), "bundle", "install", str(forged), "--prefix", str(server_prefix),
         "--role", "server", "--no-services"],
    )  # fmt: skip
    assert completed.returncode == 1
    assert "bad signature" in completed.stderr
    assert os.readlink(server_prefix / "current") == before


#: The steps of an install, in order; the switch of ``current`` happens between "switch" and "health".
STEPS = ("verify", "venv", "pip", "packs", "config", "switch", "health")


def test_power_cut_at_every_step_leaves_a_working_release(
    server_prefix, x86_bundle, signing_key, tmp_path
) -> None:
    """SIGKILL at each step of one update in turn: `current` always runs; one more install completes it;
    then a manual rollback goes back to the release before.

    Each attempt continues from what the killed one left (an incomplete release is rebuilt, a complete one
    reused), which is what a device does after a power cut.
    """
    release_id = "0.1.0-zzz-powercut"
    bundle = derive_bundle(x86_bundle, tmp_path / "b", signing_key[0], release_id)
    old = os.readlink(server_prefix / "current")
    for step in STEPS:
        killed = install(bundle, server_prefix, signing_key[1], MADOGUCHI_BUNDLE_FAULT=step)
        assert killed.returncode == -9, (step, killed.stderr[-1000:])
        expected = f"releases/{release_id}" if step == "health" else old
        assert os.readlink(server_prefix / "current") == expected, step
        assert (server_prefix / "current" / ".complete").exists(), step
        assert health_check(server_prefix, "server") is None, step
    again = install(bundle, server_prefix, signing_key[1])
    assert again.returncode == 0, again.stderr[-2000:]
    assert os.readlink(server_prefix / "current") == f"releases/{release_id}"
    assert os.readlink(server_prefix / "previous") == old
    assert health_check(server_prefix, "server") is None
    assert_server_release(server_prefix)
    # and by hand: `madoguchi bundle rollback` swaps current and previous
    back = run([*madoguchi_command(), "bundle", "rollback", "--prefix", str(server_prefix)])
    assert back.returncode == 0, back.stderr
    assert os.readlink(server_prefix / "current") == old
    assert os.readlink(server_prefix / "previous") == f"releases/{release_id}"
    assert health_check(server_prefix, "server") is None
