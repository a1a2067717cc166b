"""The account email queue: sent after the response, retried by the scheduler, never twice."""
from __future__ import annotations

import smtplib
from datetime import timedelta

from sqlalchemy import select

from clock import utcnow
from diary import account_mail as queue
from diary.models import AccountEmail
from webapp import account_mail


class FailingMailer:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, email):  # type: ignore[no-untyped-def]
        raise self.error


def test_mail_goes_after_the_response_is_closed(app, client, make_family, mailer, session):
    """Production order: the answer first (same for every address), the email after."""
    app.config["ACCOUNT_MAIL_AFTER_RESPONSE"] = True
    user, _ = make_family()
    response = client.post("/forgot", data={"email": user.email})
    assert response.status_code == 302 and mailer.sent == []
    response.close()  # what the server does once the answer is out
    [email] = mailer.sent
    assert email.to == user.email and "/reset/" in email.text


def test_the_scheduler_sends_what_is_left_with_no_request_around(app, make_family, mailer,
                                                                  session, session_factory):
    user, _ = make_family()
    queue.queue(session, queue.RESET_PASSWORD, user.email, user=user, locale="zh_CN",
                name=user.display_name)
    session.commit()
    done = account_mail.send_due(app, session_factory)
    assert done == {"sent": 1, "failed": 0, "cancelled": 0}
    [email] = mailer.sent
    assert email.subject == "重置您的宝宝旅程密码"
    assert "http://localhost/reset/" in email.text
    assert account_mail.send_due(app, session_factory) == {"sent": 0, "failed": 0,
                                                           "cancelled": 0}  # never twice


def test_failures_back_off_and_a_permanent_refusal_is_dead(app, make_family, session,
                                                           session_factory):
    user, _ = make_family()
    row = queue.queue(session, queue.RESET_PASSWORD, user.email, user=user,
                      name=user.display_name)
    session.commit()
    before = utcnow()
    with app.app_context():
        account_mail.send(session_factory, FailingMailer(OSError("connection refused")),
                          [row.id])
    session.expire_all()
    row = session.get(AccountEmail, row.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.next_attempt_at >= before + timedelta(minutes=2)
    assert "connection refused" in row.last_error
    row.next_attempt_at = utcnow()
    session.commit()
    refusal = smtplib.SMTPRecipientsRefused({user.email: (550, b"no such user")})
    with app.app_context():
        account_mail.send(session_factory, FailingMailer(refusal), [row.id])
    session.expire_all()
    assert session.get(AccountEmail, row.id).status == "dead"


def test_a_claimed_row_is_not_sent_by_a_second_sender(app, make_family, session,
                                                      session_factory, mailer):
    user, _ = make_family()
    row = queue.queue(session, queue.RESET_PASSWORD, user.email, user=user,
                      name=user.display_name)
    session.commit()
    assert queue.claim(session, row.id, utcnow()) is not None  # another sender holds it
    session.commit()
    with app.app_context():
        done = account_mail.send(session_factory, mailer, [row.id])
    assert done["sent"] == 0 and mailer.sent == []


def test_no_row_ever_holds_a_link(client, make_family, login_as, session):
    owner, child = make_family()
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "gran@example.com", "role": "viewer",
                      "relationship": "grandparent"})
    client.post("/forgot", data={"email": owner.email})
    rows = session.scalars(select(AccountEmail)).all()
    assert {r.kind for r in rows} == {"invitation", "reset_password"}
    for row in rows:
        assert "http" not in str(row.payload) and "/" not in str(row.payload)
