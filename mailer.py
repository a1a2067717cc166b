"""Sending email without Flask: SMTP in production, `.eml` files in development.

Shared by the web app (password resets, invitations) and, later, the scheduler's digests.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from db import utcnow


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or None)
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class FileMailer:
    """Writes each message to `outbox/<timestamp>-<n>.eml`, for development and demos."""

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = Path(outbox)
        self.sender = sender

    def send(self, email: Email) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        path = self.outbox / f"{stamp}.eml"
        path.write_bytes(bytes(build_message(email, self.sender)))


class SMTPMailer:
    """Plain SMTP with STARTTLS and login when configured."""

    def __init__(self, host: str, port: int, sender: str, use_tls: bool = True,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 20) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.use_tls, self.username, self.password = use_tls, username, password
        self.timeout = timeout

    def send(self, email: Email) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(build_message(email, self.sender))


class MemoryMailer:
    """Keeps messages in a list; tests read `sent`."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        self.sent.append(email)
