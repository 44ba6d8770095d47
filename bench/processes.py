"""Child processes of the benchmarks and tests: a bench function in a fresh Python, the central server,
a throwaway PostgreSQL cluster, an ASGI app under uvicorn in a thread; and this process's peak memory.

A model's memory is only its own in a process that loaded nothing else, so the memory and decoding probes
run as ``python -c`` children of the benchmark and print their result as one JSON line. The server runs as
a uvicorn child so that it can be killed and restarted under load.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB), from ``VmHWM``: unlike ``ru_maxrss`` it starts afresh in
    a spawned child (Linux keeps ``ru_maxrss`` across exec, so a child would report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_isolated(
    module: str,
    function: str,
    kwargs: dict[str, Any],
    *,
    timeout_s: float | None = 600.0,
    check: bool = False,
) -> dict[str, Any]:
    """``module.function(**kwargs)`` in a fresh Python (cwd: the repository); returns its JSON result.

    A failed child gives ``{"error": <last line of its stderr>}``, or raises ``CalledProcessError`` when
    ``check``.
    """
    code = (
        f"import json,sys;from {module} import {function} as f;"
        "print(json.dumps(f(**json.loads(sys.argv[1]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=check,
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail}
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``madoguchi`` server (uvicorn, one worker) in a child process on 127.0.0.1."""

    home: Path
    database_url: str
    port: int = field(default_factory=free_port)
    admin_user: str = "admin"
    admin_password: str = "fleet-admin-pass"
    publish_bundled: bool = False
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_key_path(self) -> Path:
        return self.home / "glossary-signing.pub"

    def env(self) -> dict[str, str]:
        """Environment of the server process."""
        env = dict(os.environ)
        env.update(
            {
                "MADOGUCHI_SERVER_HOME": str(self.home),
                "MADOGUCHI_SERVER_DATABASE_URL": self.database_url,
                "MADOGUCHI_SERVER_ADMIN_USER": self.admin_user,
                "MADOGUCHI_SERVER_ADMIN_PASSWORD": self.admin_password,
                "MADOGUCHI_SERVER_PUBLISH_BUNDLED_GLOSSARY": "true" if self.publish_bundled else "false",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
                **self.extra_env,
            }
        )
        return env

    def start(self, timeout_s: float = 60.0) -> None:
        """Start uvicorn and wait until ``/api/v1/health`` answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path or self.home / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "server.main:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env(),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self._proc.returncode}; see {self.home / 'server.log'}"
                )
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError(f"server did not answer within {timeout_s} s; see {self.home / 'server.log'}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (``SIGKILL`` when ``kill``, else ``SIGTERM``) and wait for it."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=20)
        self._proc = None

    def restart(self, *, kill: bool = True) -> None:
        """Stop (killed by default, like a power cut) and start again on the same port."""
        self.stop(kill=kill)
        self.start()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster in ``/tmp``, run as the ``postgres`` user (tests, benchmarks)."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _as_postgres(self, command: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True, capture_output=True)

    def start(self) -> None:
        """initdb (trust auth) and start; fsync off: the data is thrown away.

        ``directory`` must be reachable by the ``postgres`` user (e.g. ``mkdtemp(dir="/tmp")``).
        """
        for parent in self.directory.resolve().parents:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(
                    f"{parent} is not traversable by the postgres user; put the cluster under /tmp"
                )
        self.directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.directory, "postgres", "postgres")
        data = self.directory / "data"
        self._as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres >{self.directory}/initdb.log 2>&1")
        self._as_postgres(
            f"{PG_BIN}/pg_ctl -D {data} -o '-h 127.0.0.1 -p {self.port} -k {self.directory} -F "
            f"-c max_connections=300' -l {self.directory}/log -w start"
        )

    def stop(self) -> None:
        """Stop the cluster and delete its files."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.directory / 'data'} -m fast -w stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"


@contextlib.contextmanager
def serve_app(app: Any, *, scheme: str = "http", **config: Any) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1 in a thread; yields its base URL (``config``: e.g. TLS files)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 30 s"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
