"""HTTPS for tablets: the local CA, the server certificate, and the counter page served over TLS."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import httpx
from cryptography import x509

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.counter.tls import ensure_tls
from tests.support.servers import serve_app


def test_ca_and_server_certificate(tmp_path: Path) -> None:
    """The server certificate is issued by the CA, covers the names, and is reused until they change."""
    files = ensure_tls(tmp_path / "tls", ("localhost", "127.0.0.1", "counter-3.local"))
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "counter-3.local" in san.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 398
    for key in (files.key, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    before = files.cert.read_bytes()
    assert ensure_tls(tmp_path / "tls", files.names).cert.read_bytes() == before
    renamed = ensure_tls(tmp_path / "tls", ("localhost", "127.0.0.1", "counter-4.local"))
    assert renamed.cert.read_bytes() != before
    assert renamed.ca_cert.read_bytes() == files.ca_cert.read_bytes()


def test_counter_page_over_https(tmp_path: Path) -> None:
    """A client trusting only the local CA loads the page over HTTPS."""
    files = ensure_tls(tmp_path / "tls", ("localhost", "127.0.0.1"))
    settings = EdgeSettings(home=tmp_path, packs_dir=tmp_path / "packs")
    app = create_app(settings, pipeline=None, options=CounterOptions(idle_timeout_s=0))
    tls = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
    with serve_app(app, scheme="https", **tls) as url:
        response = httpx.get(f"{url}/", verify=ssl.create_default_context(cafile=files.ca_cert))
        assert response.status_code == 200 and "窓口" in response.text
        try:
            httpx.get(f"{url}/", verify=True)
        except httpx.ConnectError:
            pass  # the system trust store does not know the local CA
        else:
            raise AssertionError("an untrusted certificate was accepted")
