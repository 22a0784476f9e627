"""Sending one message over SMTP: the settings, the secure connection, retries.

Everything comes from the environment, never from a playbook (playbooks are
committed and shared; a password in one is a leaked password). The password
is handed to the server and to nothing else: no message, log line or error
names it. Temporary failures (a 4xx reply, a refused or dropped connection,
a timeout) are tried again with a doubling wait; permanent ones (5xx, a
certificate that does not verify, a login refused) are not.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from pdca.errors import PdcaError

HOST_ENV = "PDCA_SMTP_HOST"
PORT_ENV = "PDCA_SMTP_PORT"
USER_ENV = "PDCA_SMTP_USER"
PASSWORD_ENV = "PDCA_SMTP_PASSWORD"
SECURITY_ENV = "PDCA_SMTP_SECURITY"
FROM_ENV = "PDCA_SMTP_FROM"
CA_ENV = "PDCA_SMTP_CA_FILE"
RETRIES_ENV = "PDCA_SMTP_RETRIES"
BACKOFF_ENV = "PDCA_SMTP_BACKOFF"
TIMEOUT_ENV = "PDCA_SMTP_TIMEOUT"

SECURITY = {"starttls": 587, "tls": 465, "none": 25}
"""Each way of securing the connection, with its usual port."""
MAX_DELAY = 60.0


class SendError(PdcaError):
    """A message the server would not take; ``temporary`` when trying again may help."""

    def __init__(self, message: str, *, temporary: bool):
        super().__init__(message)
        self.temporary = temporary


def _number(env: Mapping[str, str], name: str, default: float, low: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value < 1e6:
        raise PdcaError(f"{name}={raw!r} is not a number from {low:g}; unset it for {default:g}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where and how to send; ``password`` is kept out of ``repr`` and every message."""

    host: str
    port: int
    security: str
    sender: str
    user: str | None
    password: str | None
    ca_file: str | None
    retries: int
    backoff: float
    timeout: float

    def __repr__(self) -> str:
        shown = "set" if self.password else "unset"
        return (
            f"Settings(host={self.host!r}, port={self.port}, user={self.user!r}, password {shown})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings, or PdcaError saying which variable to set or fix."""
        from pdca_email.people import check_address

        env = os.environ if env is None else env
        host = env.get(HOST_ENV, "").strip()
        if not host:
            raise PdcaError(f"set {HOST_ENV} to the SMTP server's host name (and {FROM_ENV})")
        security = env.get(SECURITY_ENV, "starttls").strip().lower() or "starttls"
        if security not in SECURITY:
            raise PdcaError(f"{SECURITY_ENV}={security!r}: use one of {', '.join(SECURITY)}")
        sender = env.get(FROM_ENV, "").strip()
        problem = check_address(sender) if sender else "is not set"
        if problem:
            raise PdcaError(f"{FROM_ENV} {problem}: set it to the address digests come from")
        user = env.get(USER_ENV) or None
        password = env.get(PASSWORD_ENV) or None
        if password and security == "none":
            raise PdcaError(
                f"{PASSWORD_ENV} is set but {SECURITY_ENV}=none: the password would cross the "
                "network in clear; use starttls or tls"
            )
        if password and not user:
            raise PdcaError(f"{PASSWORD_ENV} is set without {USER_ENV}: set the user name too")
        ca_file = env.get(CA_ENV) or None
        if ca_file and not os.path.isfile(ca_file):
            raise PdcaError(f"{CA_ENV}: {ca_file} is not a file of certificates")
        port = int(_number(env, PORT_ENV, SECURITY[security], 1))
        if port > 65535:
            raise PdcaError(f"{PORT_ENV}={port} is not a port (1 to 65535)")
        return cls(
            host=host,
            port=port,
            security=security,
            sender=sender,
            user=user,
            password=password,
            ca_file=ca_file,
            retries=int(_number(env, RETRIES_ENV, 3, 0)),
            backoff=_number(env, BACKOFF_ENV, 2.0, 0),
            timeout=_number(env, TIMEOUT_ENV, 30.0, 0.001),
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _context(settings: Settings) -> ssl.SSLContext:
    """Certificates verified against the system's authorities (and ``PDCA_SMTP_CA_FILE``)."""
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


def send_once(settings: Settings, message: EmailMessage) -> None:
    """One attempt; SendError (temporary or not) when it fails."""
    try:
        if settings.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=_context(settings)
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=_context(settings))
            if settings.user and settings.password:
                smtp.login(settings.user, settings.password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"{settings.where} refused the login of {settings.user!r} ({exc.smtp_code})",
            temporary=False,
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise SendError(
            f"{settings.where} does not offer STARTTLS; set {SECURITY_ENV}=tls if it takes "
            "TLS from the start",
            temporary=False,
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"{settings.where} refused the recipient ({', '.join(map(str, codes))})",
            temporary=all(400 <= c < 500 for c in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        said = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        raise SendError(
            f"{settings.where} answered {exc.smtp_code} {said[:200]}".strip(),
            temporary=400 <= exc.smtp_code < 500,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise SendError(
            f"{settings.where}: its certificate does not verify ({exc.verify_message}); "
            f"trust its authority with {CA_ENV}",
            temporary=False,
        ) from None
    except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise SendError(f"{settings.where}: {type(exc).__name__}: {exc}", temporary=True) from None


def send(
    settings: Settings,
    message: EmailMessage,
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempt: Callable[[Settings, EmailMessage], None] = send_once,
) -> int:
    """Send with retries on temporary failures; the number of attempts it took.

    Raises the last SendError when every attempt failed or one failed for good.
    """
    delay = settings.backoff
    for n in range(1, settings.retries + 2):
        try:
            attempt(settings, message)
            return n
        except SendError as exc:
            if not exc.temporary or n > settings.retries:
                raise
        sleep(min(delay, MAX_DELAY))
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
