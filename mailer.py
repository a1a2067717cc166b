"""Sending email without Flask: SMTP in production, `.eml` files in development.

Shared by the web app (password resets, invitations) and the scheduler's outbox (digests).

Every mailer has `send(email)` for one message and `open()`, a context manager giving a
connection that sends many: for SMTP that is one TCP/TLS session (and one login) for a whole
batch, reconnecting once if the server drops the connection between two messages.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
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
    #: Extra headers; a Message-ID or Date given here replaces the generated one.
    headers: tuple[tuple[str, str], ...] = ()


def build_message(email: Email, sender: str) -> EmailMessage:
    given = {name.lower() for name, _ in email.headers}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    if "date" not in given:
        message["Date"] = formatdate(localtime=False)
    if "message-id" not in given:
        message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or None)
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


class MailerUnavailable(Exception):
    """The mail server could not be reached or refused the session (connect, TLS, login)."""


class Connection(Protocol):
    def send(self, email: Email) -> None: ...


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


def connection(mailer: Mailer):  # type: ignore[no-untyped-def]
    """`with connection(m) as conn:` — one session for many messages, whatever the mailer."""
    opener = getattr(mailer, "open", None)
    if opener is not None:
        return opener()
    return _single(mailer)


@contextmanager
def _single(mailer: Mailer) -> Iterator[Mailer]:
    yield mailer


class FileMailer:
    """Writes each message to `outbox/<timestamp>[-<n>].eml`, for development and demos."""

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = Path(outbox)
        self.sender = sender

    def send(self, email: Email) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        data = bytes(build_message(email, self.sender))
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        for n in range(1000):
            path = self.outbox / (f"{stamp}.eml" if n == 0 else f"{stamp}-{n}.eml")
            try:
                with path.open("xb") as out:  # never overwrite a message sent the same µs
                    out.write(data)
                return
            except FileExistsError:
                continue
        raise RuntimeError(f"could not find a free file name in {self.outbox}")

    @contextmanager
    def open(self) -> Iterator[FileMailer]:
        yield self


class SMTPConnection:
    """One SMTP session for many messages; reconnects once when the server hangs up."""

    def __init__(self, mailer: SMTPMailer) -> None:
        self.mailer = mailer
        self.smtp: smtplib.SMTP | None = None
        self.sessions = 0  # how many times we connected (tests and logs read it)

    def _connect(self) -> smtplib.SMTP:
        m = self.mailer
        try:
            smtp = smtplib.SMTP(m.host, m.port, timeout=m.timeout)
        except (OSError, smtplib.SMTPException) as error:
            raise MailerUnavailable(f"{m.host}:{m.port}: {error}") from error
        try:
            if m.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if m.username:
                smtp.login(m.username, m.password or "")
        except (OSError, smtplib.SMTPException) as error:
            _close_quietly(smtp)
            raise MailerUnavailable(f"{m.host}:{m.port}: {error}") from error
        self.sessions += 1
        return smtp

    def send(self, email: Email) -> None:
        message = build_message(email, self.mailer.sender)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            # The server closed an idle or long session: one fresh connection, one retry.
            _close_quietly(self.smtp)
            self.smtp = None
            self.smtp = self._connect()
            self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                _close_quietly(self.smtp)
            self.smtp = None


def _close_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


class SMTPMailer:
    """Plain SMTP with STARTTLS and login when configured."""

    def __init__(self, host: str, port: int, sender: str, use_tls: bool = True,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 20) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.use_tls, self.username, self.password = use_tls, username, password
        self.timeout = timeout

    def send(self, email: Email) -> None:
        with self.open() as conn:
            conn.send(email)

    @contextmanager
    def open(self) -> Iterator[SMTPConnection]:
        """A connection kept open across sends (connects lazily, on the first message)."""
        conn = SMTPConnection(self)
        try:
            yield conn
        finally:
            conn.close()


class MemoryMailer:
    """Keeps messages in a list; tests read `sent`."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        self.sent.append(email)

    @contextmanager
    def open(self) -> Iterator[MemoryMailer]:
        yield self
