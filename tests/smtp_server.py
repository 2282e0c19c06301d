"""A real SMTP server for delivery tests: aiosmtpd on 127.0.0.1, a free port, keeping
every message it receives (envelope and parsed message)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    def text(self) -> str:
        """Every header and every part, decoded (attachments as Latin-1 text)."""
        parts = [str(self.message.items())]
        for part in self.message.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            parts.append(payload.decode("latin-1"))
            parts.append(str(part.get_filename() or ""))
        return "\n".join(parts)

    def attachments(self) -> dict[str, tuple[str, bytes]]:
        """file name -> (content type, bytes)."""
        return {
            part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
            for part in self.message.iter_attachments()
        }

    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class Collector:
    """aiosmtpd handler that keeps the messages."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=envelope.content,
            message=message_from_bytes(envelope.content, policy=policy.default),
        ))
        return "250 Message accepted for delivery"


@dataclass
class LocalSmtp:
    host: str
    port: int
    collector: Collector

    @property
    def messages(self) -> list[Received]:
        return self.collector.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def authenticator(login: str, password: str):
    """An aiosmtpd authenticator accepting one login."""

    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == login.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def local_smtp(**options):
    """A running server; options go to aiosmtpd's SMTP (tls_context, require_starttls,
    auth_required, auth_require_tls, authenticator, ...)."""
    collector = Collector()
    controller = Controller(collector, hostname=HOST, port=free_port(), **options)
    controller.start()
    try:
        yield LocalSmtp(HOST, controller.port, collector)
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key (PEM files in `folder`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


def tls_contexts(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only the self-signed certificate)."""
    cert_path, key_path = self_signed_certificate(folder)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
