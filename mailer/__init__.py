"""Sending email without Flask: SMTP in production, `.eml` files in development.

Shared by the web app (password resets, invitations) and the scheduler's outbox (digests).

Every mailer has `send(email)` for one message and `open()`, a context manager giving a
connection that sends many: for SMTP that is one TCP/TLS session (and one login) for a whole
batch, reconnecting once if the server drops the connection between two messages.
"""
from __future__ import annotations

import base64
import secrets
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from clock import utcnow


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    #: Extra headers; a Message-ID or Date given here replaces the generated one.
    headers: tuple[tuple[str, str], ...] = ()


def _default_headers(email: Email, sender: str) -> list[tuple[str, str]]:
    given = {name.lower() for name, _ in email.headers}
    headers = [("From", sender), ("To", email.to), ("Subject", email.subject)]
    if "date" not in given:
        headers.append(("Date", formatdate(localtime=False)))
    if "message-id" not in given:
        headers.append(("Message-ID", make_msgid(
            domain=sender.rsplit("@", 1)[-1].strip(">") or None)))
    return headers + list(email.headers)


def build_message(email: Email, sender: str) -> EmailMessage:
    message = EmailMessage()
    for name, value in _default_headers(email, sender):
        message[name] = value
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


@lru_cache(maxsize=64)
def _encoded_sender(sender: str) -> str:
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8") if name else address


def _header_line(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:  # as EmailMessage does: no header injection
        raise ValueError(f"header {name!r} contains a line break")
    if value.isascii() and len(name) + len(value) < 996:
        return f"{name}: {value}\r\n"
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n"


def _base64_part(content_type: str, text: str) -> bytes:
    body = base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    return (f'Content-Type: {content_type}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") + body


def message_bytes(email: Email, sender: str) -> bytes | None:
    """The message as SMTP sends it (CRLF line ends): UTF-8 parts in base64, non-ASCII
    headers in RFC 2047 words. None when an address is not ASCII (that needs SMTPUTF8, which
    `build_message` + `send_message` handle).

    Why not `build_message`: its header registry parses and refolds every header and the
    generator flattens the tree again, which was most of the sender's CPU at digest volume;
    writing the few fixed parts directly is several times cheaper and parses to the same
    message (tests compare them)."""
    if not (email.to.isascii() and parseaddr(sender)[1].isascii()):
        return None
    lines = ["MIME-Version: 1.0\r\n"]
    for name, value in _default_headers(email, sender):
        if name == "From":
            value = _encoded_sender(value)
        lines.append(_header_line(name, value))
    head = "".join(lines).encode("ascii")
    if not email.html:
        return head + _base64_part("text/plain", email.text)
    boundary = "=_bj" + secrets.token_hex(16)  # '-' and '_' never occur in base64 lines
    return b"".join((
        head, f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\n".encode("ascii"), _base64_part("text/plain", email.text),
        f"\r\n--{boundary}\r\n".encode("ascii"), _base64_part("text/html", email.html),
        f"\r\n--{boundary}--\r\n".encode("ascii")))


class MailerUnavailable(Exception):
    """The mail server could not be reached or refused the session (connect, TLS, login)."""


def is_permanent_refusal(error: Exception) -> bool:
    """A 5xx answer for the message or all its recipients: retrying will not help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in
                                              error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


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
        data = message_bytes(email, self.mailer.sender)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self._transmit(email, data)
        except smtplib.SMTPServerDisconnected:
            # The server closed an idle or long session: one fresh connection, one retry.
            _close_quietly(self.smtp)
            self.smtp = None
            self.smtp = self._connect()
            self._transmit(email, data)

    def _transmit(self, email: Email, data: bytes | None) -> None:
        assert self.smtp is not None
        if data is None:  # a non-ASCII address: let smtplib negotiate SMTPUTF8
            self.smtp.send_message(build_message(email, self.mailer.sender))
        else:
            self.smtp.sendmail(parseaddr(self.mailer.sender)[1], [email.to], data)

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
