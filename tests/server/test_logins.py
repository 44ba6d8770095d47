"""Admin logins: throttled per account and client, one argon2 check per login, no user enumeration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.support.console import csrf_token
from tests.support.inprocess import ADMIN, ADMIN_PASSWORD, ADMIN_USER, App, running_app

FREE = 3


@pytest.fixture
def verifies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification the server runs (the hash checked, in order)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, password_hash: str | bytes, password: str | bytes) -> bool:
        calls.append(str(password_hash))
        return real(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


@pytest.fixture
def server(tmp_path: Path, verifies: list[str]) -> Iterator[App]:
    yield from running_app(tmp_path, login_free_failures=FREE)


def test_wrong_passwords_get_429_with_retry_after_and_no_more_hashing(
    server: App, verifies: list[str]
) -> None:
    client = server.client
    codes = [
        client.get("/api/v1/admin/fleet", auth=(ADMIN_USER, f"wrong-{i}")).status_code for i in range(FREE)
    ]
    assert codes == [401] * FREE
    hashed = len(verifies)
    locked = client.get("/api/v1/admin/fleet", auth=(ADMIN_USER, "wrong-again"))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    # Even the right password waits out the lock, and a locked try costs no argon2 at all.
    assert client.get("/api/v1/admin/fleet", auth=ADMIN).status_code == 429
    assert len(verifies) == hashed


def test_one_client_trying_many_names_is_throttled_too(server: App) -> None:
    client = server.client
    for i in range(FREE):
        assert client.get("/api/v1/admin/fleet", auth=(f"guess-{i}", "pw")).status_code == 401
    assert client.get("/api/v1/admin/fleet", auth=("guess-next", "pw")).status_code == 429


def test_console_login_is_throttled(server: App) -> None:
    client = server.client
    csrf = csrf_token(client.get("/console/login").text)
    form = {"username": ADMIN_USER, "csrf_token": csrf}
    for i in range(FREE):
        assert client.post("/console/login", data={**form, "password": f"nope-{i}"}).status_code == 401
    locked = client.post("/console/login", data={**form, "password": ADMIN_PASSWORD})
    assert locked.status_code == 429 and 'id="throttled"' in locked.text
    assert int(locked.headers["Retry-After"]) >= 1


def test_an_unknown_name_costs_one_hash_like_a_known_one(server: App, verifies: list[str]) -> None:
    client = server.client
    assert client.get("/api/v1/admin/fleet", auth=("no-such-admin", "pw")).status_code == 401
    assert len(verifies) == 1, "an unknown name must be checked against a dummy hash"
    assert client.get("/api/v1/admin/fleet", auth=(ADMIN_USER, "wrong-pw")).status_code == 401
    assert len(verifies) == 2
    unknown_hash, known_hash = verifies
    assert unknown_hash != known_hash and unknown_hash.split("$")[:4] == known_hash.split("$")[:4]


def test_basic_scripts_pay_one_hash_not_one_per_request(server: App, verifies: list[str]) -> None:
    for _ in range(5):
        assert server.client.get("/api/v1/admin/fleet", auth=ADMIN).status_code == 200
    assert len(verifies) == 1  # verified once, then remembered (as an HMAC) for a few minutes


def test_api_token_replaces_basic(server: App, verifies: list[str]) -> None:
    client = server.client
    issued = client.post("/api/v1/admin/token", auth=ADMIN)
    assert issued.status_code == 200
    token = issued.json()["token"]
    hashed = len(verifies)
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert client.get("/api/v1/admin/fleet", headers=bearer).status_code == 200
    assert len(verifies) == hashed  # tokens are checked by sha256 lookup, not argon2
    assert (
        client.get("/api/v1/admin/fleet", headers={"Authorization": "Bearer " + "B" * 43}).status_code == 401
    )
    device_token = server.enroll("north", "c1")
    device = {"Authorization": f"Bearer {device_token}"}
    assert client.get("/api/v1/admin/fleet", headers=device).status_code == 401
    assert client.get("/api/v1/glossary/current", headers=bearer).status_code == 401  # not a device
    assert client.delete("/api/v1/admin/token", headers=bearer).status_code == 204
    assert client.get("/api/v1/admin/fleet", headers=bearer).status_code == 401  # ended


def test_console_session_cookie_andcsrf_token(server: App) -> None:
    client = server.client
    csrf = csrf_token(client.get("/console/login").text)
    reply = client.post(
        "/console/login",
        data={"username": ADMIN_USER, "password": ADMIN_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    page = client.get("/console/glossary", follow_redirects=False)
    assert page.status_code == 200
    session_csrf = csrf_token(page.text)
    assert client.post("/console/logout", data={}, follow_redirects=False).status_code == 403
    assert (
        client.post("/console/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code
        == 403
    )
    out = client.post("/console/logout", data={"csrf_token": session_csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console/glossary", follow_redirects=False).status_code == 303  # session gone


def test_password_checks_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import server.core.logins as logins
    from server.core.logins import LoginBusy, PasswordChecker
    from server.core.security import PasswordPolicy, hash_password

    policy = PasswordPolicy(time_cost=1, memory_kib=8192)
    checker = PasswordChecker(policy, max_concurrent=1, wait_s=0.2)
    stored = hash_password("right-password", policy)
    inside, release = threading.Event(), threading.Event()
    real = logins.verify_password

    def slow(password: str, password_hash: str) -> bool:
        inside.set()
        release.wait(10)
        return real(password, password_hash)

    monkeypatch.setattr(logins, "verify_password", slow)
    holder = threading.Thread(target=checker.verify, args=("right-password", stored))
    holder.start()
    assert inside.wait(10)
    with pytest.raises(LoginBusy):
        checker.verify("right-password", stored)
    release.set()
    holder.join(10)
    monkeypatch.setattr(logins, "verify_password", real)
    assert checker.verify("right-password", stored) is True
    assert checker.verify("right-password", None) is False  # unknown account: dummy hash, never a match


def test_argon2_parameters_live_in_one_place() -> None:
    """One place sets the argon2 parameters (``server.core.security.PasswordPolicy``)."""
    repo = Path(__file__).resolve().parents[2]
    sources = [p for p in (repo / "server").rglob("*.py") if p.name != "security.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "PasswordHasher(" not in text, path
        assert "65536" not in text and "memory_cost=" not in text, path
