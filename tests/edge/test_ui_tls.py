"""HTTPS for tablets: the local CA, the server certificate, and the counter page served over TLS."""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from edge.config import EdgeSettings
from edge.counter.app import CounterOptions, create_app
from edge.counter.tls import ca_fingerprint, ensure_tls
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
    ca_before = files.ca_cert.read_bytes()
    renamed = ensure_tls(tmp_path / "tls", ("localhost", "127.0.0.1", "counter-4.local"))
    assert renamed.cert.read_bytes() != before
    assert renamed.ca_cert.read_bytes() != ca_before  # the CA is fenced to the names: a new one
    assert stat.S_IMODE(os.stat(tmp_path / "tls").st_mode) == 0o700


def _verifier(ca: x509.Certificate, name: x509.verification.DNSName | x509.verification.IPAddress):
    from cryptography.x509.verification import PolicyBuilder, Store

    return PolicyBuilder().store(Store([ca])).build_server_verifier(name)


def test_ca_is_fenced_to_the_device_names_and_two_years(tmp_path: Path) -> None:
    """NameConstraints (critical) permit the device's names only; a certificate for another site that
    the CA key signs is rejected by a verifier; the CA lives at most two years."""
    import datetime as dt
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from cryptography.x509.verification import DNSName, IPAddress, VerificationError

    files = ensure_tls(tmp_path / "tls", ("localhost", "127.0.0.1", "counter-3.local", "192.168.10.23"))
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = set(constraints.value.permitted_subtrees or ())
    assert permitted == {
        x509.DNSName("localhost"),
        x509.DNSName("counter-3.local"),
        x509.IPAddress(ipaddress.ip_network("127.0.0.1/32")),
        x509.IPAddress(ipaddress.ip_network("192.168.10.23/32")),
    }
    assert ca.not_valid_after_utc - ca.not_valid_before_utc <= dt.timedelta(days=2 * 365)
    assert ca_fingerprint(files.ca_cert) == ca.fingerprint(hashes.SHA256()).hex(":").upper()
    leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert leaf.not_valid_after_utc <= ca.not_valid_after_utc
    _verifier(ca, DNSName("counter-3.local")).verify(leaf, [])
    _verifier(ca, IPAddress(ipaddress.ip_address("192.168.10.23"))).verify(leaf, [])

    ca_key = serialization.load_pem_private_key((tmp_path / "tls" / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = dt.datetime.now(dt.UTC)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bank.example")]))
        .issuer_name(ca.subject)
        .public_key(rogue_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    rogue.verify_directly_issued_by(ca)  # the stolen key did sign it...
    with pytest.raises(VerificationError) as refused:
        _verifier(ca, DNSName("bank.example")).verify(rogue, [])  # ...but the constraints refuse it
    assert "name constraint" in str(refused.value).lower()


def test_old_unconstrained_ca_is_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A CA made before the fence (10 years, no constraints) is replaced, and the log says so."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path / "tls"
    directory.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old CA")])
    now = dt.datetime.now(dt.UTC)
    old = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files = ensure_tls(directory, ("localhost", "127.0.0.1"))
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert ca.serial_number != old.serial_number
    assert ca.extensions.get_extension_for_class(x509.NameConstraints).critical
    assert "install the new" in caplog.text


def test_https_is_the_default_beyond_loopback() -> None:
    """The counter serves HTTPS unless it listens on loopback only (or is told --http)."""
    from edge.counter.run import use_https

    assert use_https("0.0.0.0", None) and use_https("192.168.10.23", None) and use_https("::", None)
    assert not use_https("127.0.0.1", None) and not use_https("localhost", None)
    assert use_https("127.0.0.1", True) and not use_https("0.0.0.0", False)


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
