"""TLS certificates for the SMTP server of tests/conftest.py (a private CA, a server certificate for
127.0.0.1/localhost), sample mails, and a clean mail environment for every notification test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from notifications.mail import Address, Mail, MailKind, mail_key
from plan.ledger import Ledger


@pytest.fixture(autouse=True)
def _clean_mail_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own KEHOACH_SMTP_* must not leak into the tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("KEHOACH_SMTP_", "KEHOACH_MAIL_")):
            monkeypatch.delenv(name)



def echoing_authenticator(user: str, password: str):
    """Accepts user/password; a failed login is answered with a reply that repeats the password it
    was given, as a careless server might, so the tests see that Kehoach never passes it on."""

    def authenticate(server, session, envelope, mechanism, auth_data):
        given_user = auth_data.login.decode()
        given_password = auth_data.password.decode()
        if given_user == user and given_password == password:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 Bad credentials {given_user}:{given_password}")

    return authenticate


# -- TLS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # the CA that signed the server certificate
    other_ca_file: Path  # a CA that did not
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _ca(name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = _ca("Kehoach test CA")
    _, other_cert = _ca("Some other CA")

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    files = Certificates(
        ca_file=directory / "ca.pem",
        other_ca_file=directory / "other-ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(pem))
    files.other_ca_file.write_bytes(other_cert.public_bytes(pem))
    files.cert_file.write_bytes(cert.public_bytes(pem))
    files.key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


# -- mails and ledgers -----------------------------------------------------------------------------

SENDER = Address("kehoach@sovhtt.hanoi.gov.vn", "Kehoach — Sở Văn hóa và Thể thao Hà Nội")

HTML = """<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>Thư tổng hợp</title></head>
<body>
<h1>Thư tổng hợp tuần — Phòng Quản lý Di sản văn hóa</h1>
<p>Kính gửi Trưởng phòng,
các nội dung dưới đây cần chú ý.</p>
<pre>ND 3  Tổ chức Lễ hội
      quá hạn 2 ngày</pre>
</body>
</html>
"""

TEXT = """Kính gửi Trưởng phòng,

Thư tổng hợp tuần — Phòng Quản lý Di sản văn hóa:
- ND 3 Tổ chức Lễ hội: quá hạn 2 ngày.
"""


def make_mail(n: int = 1, *, to: tuple[Address, ...] | None = None, cc: tuple[Address, ...] = (), attachments=()) -> Mail:
    to = to or (Address(f"phong{n}@sovhtt.hanoi.gov.vn", "Nguyễn Văn Ánh — Phòng Quản lý Di sản văn hóa"),)
    return Mail(
        key=mail_key(MailKind.DIGEST, to[0].email, "2026-W23", n),
        kind=MailKind.DIGEST,
        to=to,
        cc=cc,
        subject=f"Thư tổng hợp tuần 23/2026 — Phòng Quản lý Di sản văn hóa ({n})",
        html=HTML,
        text=TEXT,
        attachments=tuple(attachments),
    )


@pytest.fixture
def sender() -> Address:
    return SENDER


@pytest.fixture
def mail():
    """mail(n, to=..., cc=..., attachments=...) → a digest Mail with Vietnamese names, HTML and text."""
    return make_mail


@pytest.fixture
def authenticator():
    return echoing_authenticator


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        yield ledger
