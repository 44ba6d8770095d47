"""The central server from outside: admin API calls, usage rows as devices post them, a tampering proxy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.fleet import ServerProcess
from glossary.schema import Glossary
from glossary.signing import generate_private_key, private_key_pem, public_key_pem
from tests.support.cli import run_madoguchi
from tests.support.glossaries import LANGS, juminhyo_term, make_glossary, tax_term

__all__ = [
    "LANGS",
    "Admin",
    "Tamper",
    "device_token",
    "make_glossary",
    "one_term_glossary",
    "one_term_server",
    "publish_glossary",
    "sign_and_add_packs",
    "tax_term",
    "usage_row",
]


def sign_and_add_packs(server: ServerProcess, pack_dirs: list[Path], tmp: Path, *add_flags: str) -> bytes:
    """IT signs each pack with a new offline pack key and adds it with the server CLI (``add_flags``:
    e.g. ``--hold``); returns the pack key's public PEM that devices pin."""
    key = generate_private_key()
    (tmp / "pack-signing.key").write_bytes(private_key_pem(key))
    (server.home / "pack-signing.pub").write_bytes(public_key_pem(key))
    env = {"MADOGUCHI_SERVER_HOME": str(server.home), "MADOGUCHI_SERVER_DATABASE_URL": server.database_url}
    for pack_dir in pack_dirs:
        copy = tmp / pack_dir.name
        copy.mkdir()
        for item in pack_dir.iterdir():
            if item.name != "pack.sig":
                (copy / item.name).symlink_to(item.resolve())
        _packs_cli("sign", str(copy), "--key", str(tmp / "pack-signing.key"))
        _packs_cli("add", str(copy), *add_flags, env=env)
    return public_key_pem(key)


def _packs_cli(*args: str, env: dict[str, str] | None = None) -> None:
    done = run_madoguchi("server", "packs", *args, env=env or {})
    assert done.returncode == 0, done.stderr[-2000:]


def publish_glossary(server: ServerProcess, glossary: Glossary) -> None:
    """Publish ``glossary`` on ``server`` as its admin (raises on an HTTP error)."""
    httpx.post(
        f"{server.url}/api/v1/admin/glossary",
        files={"file": ("g.json", glossary.canonical_json(), "application/json")},
        auth=(server.admin_user, server.admin_password),
        timeout=60,
    ).raise_for_status()


def device_token(server: ServerProcess, site: str, device: str) -> str:
    """Register ``device`` at ``site`` on ``server``: the enrollment token the admin hands out."""
    reply = httpx.post(
        f"{server.url}/api/v1/admin/devices",
        json={"site": site, "device": device},
        auth=(server.admin_user, server.admin_password),
        timeout=60,
    )
    reply.raise_for_status()
    return str(reply.json()["token"])


def one_term_glossary(english: str = "certificate of residence") -> Glossary:
    """The certificate-of-residence term alone, translated ``english`` in every language."""
    return Glossary.from_items([juminhyo_term(dict.fromkeys(LANGS, english))], [])


@pytest.fixture(scope="module", name="server")
def one_term_server(sync_server: ServerProcess) -> ServerProcess:
    """The module's ``sync_server`` with a one-term glossary published (import it as the ``server``
    fixture of a module that enrolls devices)."""
    publish_glossary(sync_server, one_term_glossary())
    return sync_server


def usage_row(target: str = "vi", *, kind: str = "turn", count: int = 1, **extra: Any) -> dict[str, Any]:
    """One usage counter as a device posts it (clerk's Japanese → ``target``, on 2026-11-28)."""
    return {
        "day": "2026-11-28",
        "source": "ja",
        "target": target,
        "direction": "to_resident",
        "kind": kind,
        "count": count,
        **extra,
    }


class Admin:
    """Admin API calls against a running server (HTTP Basic)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=server.url, auth=(server.admin_user, server.admin_password), timeout=30
        )

    def publish(self, glossary: Glossary, *, dry_run: bool = False) -> dict[str, Any]:
        files = {"file": ("glossary.json", glossary.canonical_json(), "application/json")}
        response = self.http.post(
            "/api/v1/admin/glossary", files=files, data={"dry_run": str(dry_run).lower()}
        )
        response.raise_for_status()
        return response.json()

    def upload(self, filename: str, data: bytes, *, dry_run: bool = False) -> httpx.Response:
        files = {"file": (filename, data, "application/octet-stream")}
        return self.http.post("/api/v1/admin/glossary", files=files, data={"dry_run": str(dry_run).lower()})

    def enroll(self, site: str, device: str) -> str:
        response = self.http.post("/api/v1/admin/devices", json={"site": site, "device": device})
        response.raise_for_status()
        return str(response.json()["token"])

    def fleet(self) -> dict[str, dict[str, Any]]:
        response = self.http.get("/api/v1/admin/fleet")
        response.raise_for_status()
        return {f"{d['site']}/{d['name']}": d for d in response.json()["data"]}

    def totals(self, site: str | None = None) -> dict[str, int]:
        """Counted usage per ``kind[:key]``, of one site or of the whole fleet."""
        response = self.http.get("/api/v1/admin/usage/totals", params={"by_site": site is not None})
        response.raise_for_status()
        return {
            f"{r['kind']}:{r['key']}" if r["key"] else r["kind"]: r["count"]
            for r in response.json()["data"]
            if site is None or r["site"] == site
        }

    def current_number(self) -> int:
        versions = self.http.get("/api/v1/admin/glossary/versions").json()["data"]
        return int(versions[0]["number"]) if versions else 0


class Tamper(httpx.AsyncBaseTransport):
    """A man in the middle: forwards to the real server and rewrites the reply with ``mutate``."""

    def __init__(self, mutate: Callable[[httpx.Request, int, bytes], bytes]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.mutate = mutate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        new_body = self.mutate(request, response.status_code, body)
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=new_body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
