"""Faults made for real: signed glossary envelopes, hand-made packs, power cuts in a child, a small tmpfs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from glossary.schema import Glossary
from glossary.signing import sign_envelope

REPO_ROOT = Path(__file__).resolve().parents[2]
CHILD = REPO_ROOT / "tests" / "reliability" / "rel_powercut_child.py"


def envelope_bytes(key: Ed25519PrivateKey, glossary: Glossary, number: int) -> bytes:
    """A signed envelope for version ``number``, as the server sends it."""
    envelope = sign_envelope(
        key,
        glossary.to_dict(),
        version=f"{number}-{glossary.content_hash[:8]}",
        number=number,
        published_at="2026-11-29T04:00:00Z",
    )
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def make_pack_dir(root: Path, pack_id: str, version: str, payload: dict[str, bytes]) -> Path:
    """A pack directory with ``pack.json`` (as exported from another store), ready for install_pack."""
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in payload.items():
        (root / name).write_bytes(data)
        files.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)})
    manifest: dict[str, Any] = {
        "schema": 1,
        "id": pack_id,
        "kind": "tts",
        "engine": "piper",
        "format": "piper-onnx",
        "languages": ["en"],
        "version": version,
        "description": f"test voice {version}",
        "source": {"type": "local", "path": str(root)},
        "files": files,
        "size_bytes": sum(len(d) for d in payload.values()),
        "license": {"spdx": "MIT", "commercial_ok": True},
        "runtime": {"model_file": "voice.onnx", "config_file": "voice.onnx.json", "sample_rate": 22050},
    }
    (root / "pack.json").write_text(json.dumps(manifest), encoding="utf-8")
    return root


def power_cuts(scenario: str, base: Path, work: Path, *args: str | Path) -> dict[str, Any]:
    """Run ``scenario`` on copies of ``base``, killed at each step: ``{"steps": S, "killed": [N, ...]}``."""
    result = subprocess.run(
        [sys.executable, str(CHILD), scenario, str(base), str(work), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@contextlib.contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path | None]:
    """A real tmpfs of ``size`` mounted at ``mount_point`` (None when mounting is not allowed)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        yield None
        return
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
