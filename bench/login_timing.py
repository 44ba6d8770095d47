"""``python -m bench.login_timing``: what admin logins cost, and whether the answer time names admins.

An in-process central server (SQLite in a temp directory) with the production argon2id parameters
answers HTTP Basic requests to ``GET /api/v1/admin/fleet``:

- a wrong password for an existing admin and any password for a name that does not exist (both
  should take one argon2 check, so the times should match: no user enumeration);
- the right password again and again (the first pays argon2, later ones are remembered);
- a bearer API token (sha256 lookup, no argon2).

Throttling is set out of the way (the bench measures the checks, not the lock-out). Printed as JSON:
median and p90 milliseconds per case. Numbers depend on the machine and its load.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scoring import percentile

ADMIN = ("bench-admin", "bench-password-123")


def _timed(cases: dict[str, Any], n: int) -> dict[str, dict[str, float | None]]:
    """Run every case ``n`` times, round-robin (so machine load hits all cases alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(n):
        for name, call in cases.items():
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {"median_ms": round(statistics.median(t), 1), "p90_ms": round(percentile(t, 90) or 0.0, 1)}
        for name, t in times.items()
    }


def run(n: int = 15) -> dict[str, Any]:
    """Time each login case ``n`` times; returns the table."""
    from starlette.testclient import TestClient

    from server.core.config import ServerSettings
    from server.main import create_app

    with tempfile.TemporaryDirectory(prefix="madoguchi-login-bench-") as tmp:
        home = Path(tmp) / "server"
        settings = ServerSettings(
            home=home,
            admin_user=ADMIN[0],
            admin_password=ADMIN[1],
            publish_bundled_glossary=False,
            login_free_failures=1000,
        )
        with TestClient(create_app(settings)) as client:

            def get(auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None) -> int:
                return client.get("/api/v1/admin/fleet", auth=auth, headers=headers).status_code

            assert get(ADMIN) == 200
            token = client.post("/api/v1/admin/token", auth=ADMIN).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            cases = {
                "wrong_password_known_admin": lambda: get((ADMIN[0], "wrong-password")),
                "unknown_admin_name": lambda: get(("no-such-admin", "wrong-password")),
                "right_password_remembered": lambda: get(ADMIN),
                "api_token": lambda: get(headers=bearer),
            }
            policy = {"time_cost": settings.password_time_cost, "memory_kib": settings.password_memory_kib}
            return {"argon2": policy, **_timed(cases, n)}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(run(), indent=2) + "\n")
