"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, and certificates.

The server can refuse a number of messages first (``451``: try again later,
or ``550``: never), offer STARTTLS or take TLS from the first byte, and ask
for a login. Certificates are made per test with the ``openssl`` command: a
self-signed one for ``127.0.0.1`` that the client trusts through
``PDCA_SMTP_CA_FILE``.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "pdca-bot", "s3cret-Pa55"


@dataclass
class Inbox:
    """What the server received, and how it answers."""

    refuse: int = 0
    refuse_with: str = "451 4.3.0 Try again later"
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    attempts: int = 0
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return self.refuse_with
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 2.0.0 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False)
        self.logins.append((data.login, data.password))
        return AuthResult(
            success=data.login == USER.encode() and data.password == PASSWORD.encode()
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    """(certificate, key): self-signed for 127.0.0.1, valid for a day."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    crt, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(crt), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return crt, key


def _context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    return context


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A factory: ``smtp_server(mode)`` with mode ``plain``, ``starttls`` or ``tls``
    (``cert=`` needed for the last two); the servers stop after the test."""
    started: list[Controller] = []

    def start(mode: str = "plain", cert: tuple[Path, Path] | None = None, **inbox: Any) -> Inbox:
        box = Inbox(**inbox)
        box.port = free_port()
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            assert cert is not None
            kwargs = {
                "tls_context": _context(cert),
                "require_starttls": True,
                "authenticator": box.authenticate,
                "auth_require_tls": True,
            }
        elif mode == "tls":
            assert cert is not None
            kwargs = {
                "ssl_context": _context(cert),
                "authenticator": box.authenticate,
                "auth_require_tls": False,
            }
        controller = Controller(box, hostname="127.0.0.1", port=box.port, **kwargs)
        controller.start()
        started.append(controller)
        return box

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("PDCA_SMTP_", "PDCA_STATE", "PDCA_WEBHOOK")):
            monkeypatch.delenv(name)
