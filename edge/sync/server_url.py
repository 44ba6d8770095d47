"""The central server's URL: https, except for a server on this machine (loopback)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from edge.errors import SyncError


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """``url`` without a trailing slash, if it is https (or http to this machine).

    Raises:
        SyncError: another scheme, no host, or plain http to another machine (the device token and the
            usage counts would cross the network in clear, and a glossary could be withheld unnoticed).
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise SyncError(f"server URL {url!r} is not an https:// URL (e.g. https://madoguchi.city.example)")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise SyncError(
            f"server URL {url!r} uses plain http to another machine: refusing it. Use https:// "
            "(the server behind TLS: madoguchi server run --ssl-certfile/--ssl-keyfile, or a TLS proxy); "
            "http is only for a server on this machine (localhost, 127.0.0.1, ::1)"
        )
    return url.strip().rstrip("/")
