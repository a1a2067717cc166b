"""mailer.message_bytes: the hand-built wire form must parse to the same message that
email.message builds (same headers, same text and HTML), with CRLF line ends throughout."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from mailer import Email, build_message, message_bytes

SENDER = "宝宝旅程 Baby Journey <hello@babyjourney.example>"
UNSUBSCRIBE = "<https://babyjourney.example/u/" + "t" * 180 + ">, <mailto:u@babyjourney.example>"
EMAIL = Email(
    to="parent@example.com",
    subject="本周：小米 3 个月 2 周 — This week with Xiaomi, a subject long enough to fold",
    text="你好！\n第一行\nline two ü\n" * 40,
    html="<p>你好 <a href=\"https://babyjourney.example/a\">文章</a></p>\n" * 60,
    headers=(("Message-ID", "<delivery-7@babyjourney>"),
             ("List-Unsubscribe", UNSUBSCRIBE),
             ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))


def parse(data: bytes):  # type: ignore[no-untyped-def]
    return BytesParser(policy=policy.default).parsebytes(data)


def test_parses_to_the_same_message_as_email_message() -> None:
    fast = parse(message_bytes(EMAIL, SENDER))  # type: ignore[arg-type]
    slow = parse(build_message(EMAIL, SENDER).as_bytes())
    for name in ("From", "To", "Subject", "Message-ID", "List-Unsubscribe",
                 "List-Unsubscribe-Post"):
        assert str(fast[name]) == str(slow[name]), name
    assert str(fast["Subject"]) == EMAIL.subject
    assert str(fast["From"]) == SENDER
    assert fast.get_content_type() == "multipart/alternative"
    assert fast.get_body(("plain",)).get_content() == EMAIL.text
    assert fast.get_body(("html",)).get_content() == EMAIL.html
    assert fast["Date"] is not None and fast["MIME-Version"] == "1.0"


def test_wire_form_uses_crlf_and_short_lines() -> None:
    data = message_bytes(EMAIL, SENDER)
    assert data is not None
    assert data.count(b"\n") == data.count(b"\r\n")  # smtplib sends bytes unchanged
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert data.isascii()


def test_text_only_message_is_a_single_part() -> None:
    message = parse(message_bytes(Email(to="a@example.com", subject="Hi", text="Hello\n"),
                                  "hello@babyjourney.example"))  # type: ignore[arg-type]
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Hello\n"
    assert message["Message-ID"].endswith("@babyjourney.example>")


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        message_bytes(Email(to="a@example.com", subject="Hi\r\nBcc: x@evil.example",
                            text="x"), SENDER)


def test_non_ascii_address_falls_back_to_email_message() -> None:
    assert message_bytes(Email(to="用户@例子.example", subject="Hi", text="x"), SENDER) is None
