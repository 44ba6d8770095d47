"""The kiosk browser's managed policy: chromium on the counter device shows the counter and nothing else.

Chromium reads every JSON file in ``/etc/chromium/policies/managed`` at start; ours
(``deploy/madoguchi-kiosk-policy.json`` with the counter's port filled in) blocks every URL but the
counter's, grants the microphone to the counter only (instead of ``--use-fake-ui-for-media-stream``,
which grants it to any page), forces incognito and turns off developer tools and remote debugging.
The policy applies to every chromium of the device: a counter device is dedicated to the counter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

POLICY_TEMPLATE: Final = "madoguchi-kiosk-policy.json"
POLICY_FILE: Final = "madoguchi-kiosk.json"
DEFAULT_POLICY_DIR: Final = Path("/etc/chromium/policies/managed")


def render_policy(template: str, port: int) -> dict[str, Any]:
    """The policy with the counter's port filled in (checked to be a JSON object)."""
    policy = json.loads(template.replace("@PORT@", str(int(port))))
    if not isinstance(policy, dict) or "@" in json.dumps(policy):
        raise ValueError(f"{POLICY_TEMPLATE} is not a complete policy object")
    return policy


def install_policy(templates: Path, port: int, policy_dir: Path = DEFAULT_POLICY_DIR) -> Path:
    """Write the kiosk policy (mode 0644, root-owned when installed as root) and return its path."""
    policy = render_policy((templates / POLICY_TEMPLATE).read_text(encoding="utf-8"), port)
    policy_dir.mkdir(parents=True, exist_ok=True)
    path = policy_dir / POLICY_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(policy, indent=2) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
