"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): delivered once, retries
with backoff, dead letters, one connection per batch, and the checks made just before
sending (unsubscribed, bounced, paused, quiet hours)."""
from __future__ import annotations

import re
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from content.models import Article
from diary import accounts, invitations
from diary.models import Child, Consent, Membership
from journeys import digests, ledger, outbox, unsubscribe
from journeys.models import Delivery, Suppression
from mailer import Email, SMTPMailer
from tests.conftest import site_links
from tests.journeys.test_digests import (  # content and world are fixtures
    NOW,
    SECRET,
    content,  # noqa: F401
    digest_rows,
    make_parent,
    schedule,
    set_pref,
    settings,
    world,  # noqa: F401
)

#: These tests are written around fixed dates (NOW): the clock stands there too, so
#: services that validate against "today" (registration, due dates) agree with them.
pytestmark = pytest.mark.clock_at("2026-11-23T01:00")


SENDER = "Baby Journey <hello@babyjourney.example>"


class Recorder:
    """An aiosmtpd handler that keeps every message and every SMTP session it saw."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.sessions: list[object] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        self.messages.append(envelope.content)
        return "250 Message accepted"

    def parsed(self):  # type: ignore[no-untyped-def]
        return [BytesParser(policy=policy.default).parsebytes(m) for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def server():
    srv = Server(free_port())
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture()
def down():
    """A port where no server listens yet (the test may start one there)."""
    srv = Server(free_port())
    yield srv
    srv.stop()


def mailer_for(srv: Server) -> SMTPMailer:
    return SMTPMailer("127.0.0.1", srv.port, SENDER, use_tls=False, timeout=5)


def send(session_factory, srv, now=NOW, batch=10, **kw):  # type: ignore[no-untyped-def]
    return outbox.send_due(session_factory, lambda: mailer_for(srv), now, batch,
                           settings(**kw))


def test_digest_is_delivered_once_with_both_parts_and_one_click_headers(
        session, session_factory, content, server):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    assert schedule(session, NOW) == 1
    stats = send(session_factory, server)
    assert (stats.claimed, stats.sent, stats.failed) == (1, 1, 0)
    [message] = server.handler.parsed()
    [row] = digest_rows(session, mum)
    assert (row.status, row.sent_at, row.attempts, row.claimed_until) == ("sent", NOW, 0, None)
    assert message["To"] == "mum@example.com"
    assert message["Subject"] == "This week with Bean: Pregnancy week 20"
    assert message["Message-ID"] == f"<delivery-{row.id}@babyjourney>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Eating well at 20 weeks" in text and "Anomaly scan" in text
    assert "<table" in html and "http://localhost/e/c/" in html
    unsub = " ".join(str(message["List-Unsubscribe"]).split())  # folded between the two
    found = re.fullmatch(r"<http://localhost/e/u/([\w.-]+)>, "
                         r"<mailto:unsubscribe@localhost\?subject=unsubscribe>", unsub)
    assert found and unsubscribe.user_for_token(session, SECRET, found.group(1)).id == mum.id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # again: nothing more to send, nothing more to schedule
    assert send(session_factory, server).claimed == 0
    assert schedule(session, NOW + timedelta(hours=1)) == 0
    assert len(server.handler.messages) == 1


def test_a_chinese_reader_gets_chinese(session, session_factory, content, server):
    make_parent(session, "mei@example.com", locale="zh_CN", name="豆豆")
    session.commit()
    schedule(session, NOW)
    send(session_factory, server)
    [message] = server.handler.parsed()
    assert message["Subject"] == "豆豆的这一周：孕 20 周"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "您好" in text and "大排畸" in text and "退订" in text


def test_server_down_then_up_retries_with_backoff(session, session_factory, content, down):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    stats = send(session_factory, down)
    assert (stats.sent, stats.failed) == (0, 1)
    [row] = digest_rows(session, mum)
    assert (row.status, row.attempts, row.claimed_until) == ("failed", 1, None)
    assert row.next_attempt_at == NOW + timedelta(minutes=2)
    assert "MailerUnavailable" in row.last_error
    assert send(session_factory, down, NOW + timedelta(minutes=1)).claimed == 0  # waiting
    down.start()
    stats = send(session_factory, down, NOW + timedelta(minutes=2))
    assert stats.sent == 1
    [row] = digest_rows(session, mum)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW + timedelta(minutes=2))
    assert len(down.handler.messages) == 1


def test_dead_letter_after_max_attempts(session, session_factory, content, down):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    now, waits = NOW, []
    for _ in range(4):
        send(session_factory, down, now, max_attempts=4)
        [row] = digest_rows(session, mum)
        if row.status == "dead":
            break
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 4, None)
    assert send(session_factory, down, now + timedelta(days=1)).claimed == 0
    assert [d.id for d in outbox.problems(session)] == [row.id]
    # staff can put it back in the queue
    assert outbox.retry(session, row.id)
    session.commit()
    assert digest_rows(session, mum)[0].status == "pending"


def test_a_permanent_refusal_is_dead_at_once(session, session_factory, content, server):
    make_parent(session, "gone@example.com")
    ok = make_parent(session, "ok@example.com")
    session.commit()
    server.handler.refuse.add("gone@example.com")
    schedule(session, NOW)
    stats = send(session_factory, server)
    assert (stats.sent, stats.dead) == (1, 1)
    rows = {r.user_id: r for r in digest_rows(session)}
    assert rows[ok.id].status == "sent"
    dead = [r for r in rows.values() if r.status == "dead"][0]
    assert "550" in dead.last_error and dead.attempts == 1


def test_one_smtp_session_for_a_batch(session, session_factory, content, server):
    for i in range(5):
        make_parent(session, f"p{i}@example.com")
    session.commit()
    assert schedule(session, NOW) == 5
    stats = send(session_factory, server, batch=2)  # three claims, one connection
    assert (stats.sent, stats.batches) == (5, 3)
    assert len(server.handler.messages) == 5
    assert len(server.handler.sessions) == 1


def test_the_connection_comes_back_once_when_the_server_hangs_up(server):
    mailer = mailer_for(server)
    email = Email(to="a@example.com", subject="Hi", text="one")
    with mailer.open() as conn:
        conn.send(email)
        conn.smtp.sock.shutdown(socket.SHUT_RDWR)  # the connection dropped while idle
        conn.send(Email(to="b@example.com", subject="Hi", text="two"))
        assert conn.sessions == 2
    assert [m["To"] for m in server.handler.parsed()] == ["a@example.com", "b@example.com"]
    assert len(server.handler.sessions) == 2


def test_unsubscribed_bounced_or_paused_after_scheduling_is_not_sent(
        session, session_factory, content, server):
    quit_ = make_parent(session, "quit@example.com")
    bounced = make_parent(session, "bounced@example.com")
    paused = make_parent(session, "paused@example.com")
    link = make_parent(session, "link@example.com")
    moved = make_parent(session, "moved@example.com")
    session.commit()
    assert schedule(session, NOW) == 5
    # after scheduling: consent withdrawn elsewhere, a bounce, a pause, a one-click link
    accounts.record_consent(session, quit_, Consent.DIGEST, False, "account", "2026-11")
    session.add(Suppression(email=bounced.email, reason="hard-bounce"))
    set_pref(session, paused, paused_until=NOW.date() + timedelta(days=7))
    unsubscribe.unsubscribe(session, link)
    moved.email_verified_at = None  # as for a parent who never confirmed their address
    session.commit()
    assert digest_rows(session, link)[0].status == "suppressed"  # cancelled at once
    stats = send(session_factory, server)
    assert (stats.claimed, stats.sent, stats.suppressed) == (4, 0, 4)
    assert server.handler.messages == []
    reasons = {r.user_id: (r.status, r.payload["reason"]) for r in digest_rows(session)}
    assert reasons == {quit_.id: ("suppressed", "unsubscribed"),
                       bounced.id: ("suppressed", "suppressed"),
                       paused.id: ("suppressed", "paused"),
                       link.id: ("suppressed", "unsubscribed"),
                       moved.id: ("suppressed", "unverified")}


def test_a_crash_after_the_claim_sends_after_the_lease(session, session_factory, content,
                                                        server):
    """The claim commits, then the process dies before sending: the lease keeps the row from
    other senders for five minutes, then it is sent (same Message-ID)."""
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    with session_factory() as s, s.begin():
        [claimed] = outbox.claim(s, NOW, 10)
    assert claimed.claimed_until == NOW + outbox.LEASE
    assert send(session_factory, server, NOW + timedelta(minutes=4)).claimed == 0
    assert send(session_factory, server, NOW + timedelta(minutes=5)).sent == 1
    [message] = server.handler.parsed()
    assert message["Message-ID"] == f"<delivery-{digest_rows(session, mum)[0].id}@babyjourney>"


def test_email_waits_for_the_end_of_quiet_hours(session, session_factory, server):
    owl = make_parent(session, "owl@example.com", tz="Europe/London")
    ledger.push(session, [ledger.row(user_id=owl.id, child_id=0, item=None, channel="email",
                                     item_key="digest:2026-11-23", occurrence="2026-11-23",
                                     kind="digest")])
    session.commit()
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 23:30 in London
    stats = send(session_factory, server, late)
    assert (stats.deferred, stats.sent) == (1, 0)
    [row] = digest_rows(session, owl)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert send(session_factory, server, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
                ).sent == 1


def test_campaign_emails_need_marketing_consent_and_unknown_kinds_go_dead(
        session, session_factory, server):
    fan = make_parent(session, "fan@example.com", marketing=True)
    shy = make_parent(session, "shy@example.com", marketing=False)
    rows = [ledger.row(user_id=u.id, child_id=0, item=None, channel="email",
                       item_key="campaign:parent_birthday", occurrence="parent_birthday:2026",
                       kind="campaign", title="Happy birthday! 🎉", body="Today is yours.")
            for u in (fan, shy)]
    rows.append(ledger.row(user_id=fan.id, child_id=0, item=None, channel="email",
                           item_key="mystery", occurrence="x", kind="mystery"))
    ledger.push(session, rows)
    session.commit()
    stats = send(session_factory, server, NOW.replace(hour=3))
    assert (stats.sent, stats.suppressed, stats.dead) == (1, 1, 1)
    [message] = server.handler.parsed()
    assert message["To"] == "fan@example.com" and message["Subject"] == "Happy birthday! 🎉"
    assert "Today is yours." in message.get_body(preferencelist=("plain",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    session.expire_all()
    mystery = session.scalar(select(Delivery).where(Delivery.item_key == "mystery"))
    assert mystery.status == "dead" and "mystery" in mystery.last_error


def test_settings_come_from_the_config():
    links = site_links()
    s = outbox.EmailSettings.from_config({
        "SITE_URL": "https://babyjourney.example", "SECRET_KEY": "k",
        "MAIL_FROM": "Baby Journey <hello@babyjourney.example>", "OUTBOX_MAX_ATTEMPTS": 4,
        "DIGEST_MAX_EMAILS_PER_7_DAYS": 2}, links)
    assert (s.max_attempts, s.digest_cap, s.unsubscribe_mailto, s.links, s.secret) == (
        4, 2, "unsubscribe@babyjourney.example", links, "k")
    assert digests.message_id(5) == "<delivery-5@babyjourney>"


def test_rendering_does_not_hold_the_sqlite_write_lock(world, server, monkeypatch):
    """The claim commits before rendering starts, so a web request that writes while a batch
    renders gets the lock at once instead of waiting behind the sender."""
    url = str(world.kw["bind"].url)
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
    with world() as s, s.begin():
        digests.schedule_due(s, NOW)
    database = url.removeprefix("sqlite:///")
    writes: list[str] = []
    digest = outbox.KINDS[digests.KIND]

    def render_and_write(*args):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the sender held it
            other.execute("ROLLBACK")
            writes.append("ok")
        finally:
            other.close()
        return digest.render(*args)

    monkeypatch.setitem(outbox.KINDS, digests.KIND,
                        outbox.Kind(render_and_write, digest.consent, digest.quiet_hours))
    stats = send(world, server)
    assert (stats.sent, stats.failed) == (6, 0)
    assert writes == ["ok"] * 6


def test_email_about_withdrawn_content_or_a_left_family_is_not_sent(
        session, session_factory, content, server):
    """What the inbox no longer shows is not emailed either, if it changed after queueing."""
    mum = make_parent(session, "mum@example.com", marketing=True)
    helper = make_parent(session, "helper@example.com", marketing=True, name="Own")
    mum.email_verified_at = helper.email_verified_at = NOW - timedelta(days=1)
    session.flush()
    child = session.scalar(select(Child).join(Membership, Membership.family_id == Child.family_id)
                           .where(Membership.user_id == mum.id))
    session.add(Membership(family_id=child.family_id, user_id=helper.id, role="editor",
                           relationship_to_child="other"))
    kept, archived = session.scalars(select(Article).order_by(Article.id).limit(2)).all()
    rows = [ledger.row(user_id=mum.id, child_id=child.id, item=item, channel="email",
                       occurrence="j1", stage_key="pregnancy_week-20")
            for item in (kept, archived)]
    rows += [ledger.row(user_id=u.id, child_id=child.id, item=None, channel="email",
                        item_key="campaign:baby_birthday", occurrence="baby_birthday:2026",
                        kind="campaign", title="Happy birthday, Bean!", body="One today.")
             for u in (mum, helper)]
    ledger.push(session, rows)
    session.commit()
    archived.status = "archived"  # after it was queued
    invitations.remove_member(session, session.scalar(select(Membership).where(
        Membership.user_id == helper.id, Membership.family_id == child.family_id)))
    session.commit()
    stats = send(session_factory, server, NOW.replace(hour=3))
    assert (stats.sent, stats.suppressed) == (2, 2)
    assert sorted((m["To"], m["Subject"]) for m in server.handler.parsed()) == sorted([
        ("mum@example.com", kept.text("en").title),
        ("mum@example.com", "Happy birthday, Bean!")])
    session.expire_all()
    outcome = {(r.user_id, r.item_key): (r.status, (r.payload or {}).get("reason"))
               for r in session.scalars(select(Delivery).where(Delivery.channel == "email"))}
    assert outcome == {
        (mum.id, f"article:{kept.key}"): ("sent", None),
        (mum.id, f"article:{archived.key}"): ("suppressed", "unavailable"),
        (mum.id, "campaign:baby_birthday"): ("sent", None),
        (helper.id, "campaign:baby_birthday"): ("suppressed", "not-in-family")}
