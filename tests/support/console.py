"""The IT console seen from a test: its CSRF token, a logged-in client, a site's push form."""

from __future__ import annotations

import re

import httpx


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a console page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


def console_login(url: str, username: str, password: str) -> httpx.Client:
    """A client logged into the console (asserts the session cookie is HttpOnly and SameSite=Strict)."""
    client = httpx.Client(base_url=url, timeout=30)
    page = client.get("/console/login")
    reply = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/console/"
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    return client


def push_section(page: str, site: str) -> str:
    """The packs page's push form of one site."""
    match = re.search(rf'<section data-site="{re.escape(site)}">.*?</section>', page, re.S)
    assert match, f"no push form for {site}"
    return match.group(0)
