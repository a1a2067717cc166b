"""The outbox against an SMTP server (aiosmtpd on 127.0.0.1) that drops connections or
refuses: nothing lost (each delivery is retried, with backoff), nothing duplicated (a message
the server accepted with 250 is never sent again), and the error kept on the row for staff.

tests/journeys/test_outbox_smtp.py covers the server down at connect time, a permanent 5xx,
the dead letter and an idle connection hung up between two messages; here the server goes
away in the middle of a session: at RCPT, after DATA (the message received, no reply), and
after accepting some of a batch; and it answers 421 / 451 (try later).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from journeys import outbox
from tests.journeys.test_digests import (  # content is a fixture
    NOW,
    content,  # noqa: F401
    digest_rows,
    make_parent,
    schedule,
)
from tests.journeys.test_outbox_smtp import Recorder, Server, free_port, send

pytestmark = pytest.mark.clock_at("2026-11-23T01:00")


class Flaky(Recorder):
    """A recorder that, for chosen addresses, cuts the TCP connection (no reply at all) at
    RCPT or just after receiving the message's DATA, a given number of times; or answers a
    temporary 451 to DATA."""

    def __init__(self) -> None:
        super().__init__()
        self.cut: dict[tuple[str, str], int] = {}  # (stage, address) → times left
        self.busy: dict[str, int] = {}  # address → 451 answers left
        self.received: list[bytes] = []  # every DATA the server read, replied to or not

    def cut_at(self, stage: str, address: str, times: int = 1) -> None:
        self.cut[(stage, address)] = times

    def _cut(self, server, stage: str, address: str) -> bool:  # type: ignore[no-untyped-def]
        left = self.cut.get((stage, address), 0)
        if not left:
            return False
        self.cut[(stage, address)] = left - 1
        server.transport.abort()  # the connection is gone: the client reads EOF/reset
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if self._cut(server, "rcpt", address):
            return "250 OK"  # never reaches the client
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.received.append(envelope.content)
        [to] = envelope.rcpt_tos
        if self._cut(server, "data", to):
            return "250 Message accepted"  # never reaches the client
        if self.busy.get(to):
            self.busy[to] -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture()
def flaky():
    srv = Server(free_port())
    srv.handler = Flaky()
    srv.start()
    yield srv
    srv.stop()


def _to(message) -> str:  # type: ignore[no-untyped-def]
    return str(message["To"])


def _parents(session, count: int) -> list:  # type: ignore[no-untyped-def]
    people = [make_parent(session, f"p{i}@example.com") for i in range(count)]
    session.commit()
    assert schedule(session, NOW) == count
    return people


def _statuses(session) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    from diary.models import User
    rows = digest_rows(session)
    emails = {r.user_id: session.get(User, r.user_id).email for r in rows}
    return {emails[r.user_id]: (r.status, r.attempts) for r in rows}


def test_a_drop_at_rcpt_is_retried_once_on_a_fresh_connection(session, session_factory,
                                                              content, flaky):  # noqa: F811
    _parents(session, 3)
    flaky.handler.cut_at("rcpt", "p1@example.com")
    stats = send(session_factory, flaky)
    assert (stats.sent, stats.failed) == (3, 0)
    assert sorted(_to(m) for m in flaky.handler.parsed()) == [
        "p0@example.com", "p1@example.com", "p2@example.com"]  # each once
    assert set(_statuses(session).values()) == {("sent", 0)}


def test_a_server_that_keeps_dropping_one_message_does_not_sink_the_others(
        session, session_factory, content, flaky):  # noqa: F811
    """p1's message makes the server drop the connection every time. p0 (accepted before)
    is never sent again; p1 is retried with backoff; p2 and p3, not tried in that call, are
    not counted as failed attempts: the next call sends them."""
    _parents(session, 4)
    flaky.handler.cut_at("rcpt", "p1@example.com", times=99)
    stats = send(session_factory, flaky)
    assert (stats.sent, stats.failed) == (1, 1)
    rows = {r.user_id: r for r in digest_rows(session)}
    statuses = _statuses(session)
    assert statuses == {"p0@example.com": ("sent", 0), "p1@example.com": ("failed", 1),
                        "p2@example.com": ("pending", 0), "p3@example.com": ("pending", 0)}
    failed = [r for r in rows.values() if r.status == "failed"][0]
    assert "SMTPServerDisconnected" in failed.last_error  # what staff see
    assert failed.next_attempt_at == NOW + timedelta(minutes=2)
    assert [d.id for d in outbox.problems(session)] == [failed.id]
    untried = [r for r in rows.values() if r.status == "pending"]
    assert all(r.claimed_until is None and r.last_error is None for r in untried)

    stats = send(session_factory, flaky, NOW + timedelta(minutes=1))  # p1 waits: backoff
    assert (stats.sent, stats.failed) == (2, 0)
    flaky.handler.cut.clear()  # the server is well again
    stats = send(session_factory, flaky, NOW + timedelta(minutes=2))
    assert (stats.claimed, stats.sent) == (1, 1)
    assert sorted(_to(m) for m in flaky.handler.parsed()) == [
        "p0@example.com", "p1@example.com", "p2@example.com", "p3@example.com"]
    assert _statuses(session)["p1@example.com"] == ("sent", 1)


def test_a_drop_after_data_resends_that_message_only_with_the_same_message_id(
        session, session_factory, content, flaky):  # noqa: F811
    """The server read p0's message and dropped the connection before its 250: for the
    client it was not accepted, so it is sent again (the one at-least-once window SMTP has),
    with the same Message-ID so a mail system can drop the copy. The ledger sends it once."""
    _parents(session, 2)
    flaky.handler.cut_at("data", "p0@example.com")
    stats = send(session_factory, flaky)
    assert stats.sent == 2
    first, again = [m for m in flaky.handler.received if b"p0@example.com" in m]
    assert _message_id(first) == _message_id(again)
    assert sorted(_to(m) for m in flaky.handler.parsed()) == ["p0@example.com",
                                                              "p1@example.com"]
    assert set(_statuses(session).values()) == {("sent", 0)}
    assert send(session_factory, flaky, NOW + timedelta(hours=1)).claimed == 0


def _message_id(raw: bytes) -> bytes:
    [line] = [x for x in raw.split(b"\r\n") if x.lower().startswith(b"message-id:")]
    return line


def test_a_temporary_refusal_is_retried_with_backoff_and_the_rest_go_out(
        session, session_factory, content, flaky):  # noqa: F811
    _parents(session, 3)
    flaky.handler.busy["p1@example.com"] = 2
    stats = send(session_factory, flaky)
    assert (stats.sent, stats.failed, stats.dead) == (2, 1, 0)
    [busy] = [r for r in digest_rows(session) if r.status == "failed"]
    assert "451" in busy.last_error and busy.next_attempt_at == NOW + timedelta(minutes=2)
    send(session_factory, flaky, NOW + timedelta(minutes=2))  # 451 again: 4 minutes more
    [busy] = [r for r in digest_rows(session) if r.id == busy.id]
    assert (busy.status, busy.attempts) == ("failed", 2)
    assert busy.next_attempt_at == NOW + timedelta(minutes=6)
    stats = send(session_factory, flaky, NOW + timedelta(minutes=6))
    assert stats.sent == 1
    assert sorted(_to(m) for m in flaky.handler.parsed()) == [
        "p0@example.com", "p1@example.com", "p2@example.com"]


def test_a_421_shutting_down_is_retried_with_backoff(session, session_factory,
                                                      content):  # noqa: F811
    """A server that answers 421 (shutting down) to MAIL FROM: nothing is sent, every
    claimed row is retried after the backoff with the reply kept for staff, and then each
    goes out once."""
    class Closing(Flaky):
        closing = True

        async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001
            if self.closing:
                return "421 4.3.2 Service shutting down"
            envelope.mail_from = address
            return "250 OK"

    srv = Server(free_port())
    srv.handler = Closing()
    srv.start()
    try:
        _parents(session, 2)
        stats = send(session_factory, srv)
        assert (stats.sent, stats.failed) == (0, 2)
        rows = digest_rows(session)
        assert all(r.status == "failed" and "421" in r.last_error for r in rows)
        assert all(r.next_attempt_at == NOW + timedelta(minutes=2) for r in rows)
        srv.handler.closing = False
        stats = send(session_factory, srv, NOW + timedelta(minutes=2))
        assert stats.sent == 2
        assert len(srv.handler.messages) == 2
    finally:
        srv.stop()
