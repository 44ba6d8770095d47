"""HTTPS for the counter page on the LAN: a small local CA and a server certificate signed by it.

Browsers give a page the microphone only on ``https`` or ``localhost``. A tablet laid on the counter
reaches the device over the LAN, so the device serves HTTPS with a certificate from its own CA: the CA
(``<home>/tls/ca.pem``) is installed once on the city's tablets as a trusted root, and the server
certificate is (re)issued whenever the device's names or addresses change or it nears expiry.

A trusted root is powerful, so this one is fenced in: its ``NameConstraints`` (critical) permit only
the device's own names and addresses, so even a stolen CA key cannot mint a certificate the tablets
accept for any other site; it is valid for at most two years. When the device's names change or the
CA nears its end, a new CA is made (and must be installed on the tablets again; the log says so).
Private keys are written with mode 0600 in a 0700 directory and never leave the device.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge.errors import ConfigError
from madoguchi.files import private_dir, write_private

_LOGGER = logging.getLogger(__name__)

#: Browsers refuse server certificates valid for longer than 398 days.
SERVER_CERT_DAYS = 397
#: At most two years: a root on the city's tablets is replaced regularly.
CA_DAYS = 730
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class TlsFiles:
    """The files uvicorn and the tablets need.

    Attributes:
        ca_cert: The local root certificate (PEM) to install on tablets.
        cert: The server certificate (PEM).
        key: The server private key (PEM, mode 0600).
        names: DNS names and IP addresses the certificate covers.
    """

    ca_cert: Path
    cert: Path
    key: Path
    names: tuple[str, ...]


def default_names(host: str | None = None, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """localhost, 127.0.0.1, the host name, the LAN address (best effort), ``host`` and ``extra``."""
    names = ["localhost", "127.0.0.1", socket.gethostname().lower()]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET address: no packet is sent for a UDP connect
            names.append(probe.getsockname()[0])
    except OSError:
        pass
    if host and host not in ("0.0.0.0", "::"):
        names.append(host)
    names.extend(name.strip("[]").lower() for name in extra)
    return tuple(dict.fromkeys(names))


def ca_fingerprint(ca_cert: Path) -> str:
    """The CA certificate's SHA-256 fingerprint as ``AB:CD:...`` (what IT compares on each tablet)."""
    cert = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def ensure_tls(directory: Path, names: tuple[str, ...] | None = None) -> TlsFiles:
    """Create the CA if missing and (re)issue the server certificate when needed.

    Raises:
        ConfigError: the directory cannot be written or holds unreadable key material.
    """
    names = tuple(dict.fromkeys(name.strip("[]").lower() for name in names or default_names()))
    try:
        private_dir(directory)
        for key_file in (directory / "ca.key", directory / "server.key"):
            if key_file.exists():
                key_file.chmod(0o600)
        ca_key, ca_cert = _ensure_ca(directory, names)
        cert_path, key_path = directory / "server.pem", directory / "server.key"
        if _needs_new_cert(cert_path, ca_cert, names):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _server_cert(key, ca_key, ca_cert, names)
            _write_key(key_path, key)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            _LOGGER.info("issued a server certificate for %s", ", ".join(names))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot prepare HTTPS certificates in {directory}: {exc}") from exc
    return TlsFiles(directory / "ca.pem", cert_path, key_path, names)


def _ensure_ca(
    directory: Path, names: tuple[str, ...]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_path, cert_path = directory / "ca.key", directory / "ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("ca.key is not an EC key; delete the tls directory to start over")
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        problem = _ca_problem(cert, names)
        if problem is None:
            return key, cert
        _LOGGER.warning(
            "making a new local CA (%s): install the new %s on the tablets again", problem, cert_path
        )
    return _new_ca(key_path, cert_path, names)


def _constraints(names: tuple[str, ...]) -> x509.NameConstraints:
    """Permit exactly ``names``: host names (and their sub-names) and single addresses."""
    permitted: list[x509.GeneralName] = []
    for name in names:
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            permitted.append(x509.DNSName(name))
        else:
            permitted.append(x509.IPAddress(ipaddress.ip_network(address)))
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def _ca_problem(cert: x509.Certificate, names: tuple[str, ...]) -> str | None:
    """Why an existing CA cannot stay (no or other name constraints, too long, near its end), or None."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return "the old CA has no name constraints"
    if set(constraints.permitted_subtrees or ()) != set(_constraints(names).permitted_subtrees or ()):
        return "the device's names or addresses changed"
    if cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=CA_DAYS):
        return "the old CA is valid for more than two years"
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < dt.timedelta(days=RENEW_BEFORE_DAYS):
        return "the CA expires soon"
    return None


def _new_ca(
    key_path: Path, cert_path: Path, names: tuple[str, ...]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "madoguchi counter"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"madoguchi local CA {socket.gethostname()}"[:64]),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now - dt.timedelta(minutes=5) + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_constraints(names), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _LOGGER.info("created the local CA %s (install it on the counter's tablets)", cert_path)
    return key, cert


def _san(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _server_cert(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: tuple[str, ...],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=SERVER_CERT_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _needs_new_cert(cert_path: Path, ca_cert: x509.Certificate, names: tuple[str, ...]) -> bool:
    if not cert_path.exists() or not cert_path.with_suffix(".key").exists():
        return True
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, Exception):
        return True
    if set(san) != set(_san(names)):
        return True
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < dt.timedelta(days=RENEW_BEFORE_DAYS)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(path, data)
