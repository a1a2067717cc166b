"""Contact history (crm.contact): staff notes are validated and stored once; the timeline
merges notes, deliveries (with read, clicked and converted), campaign hold-outs and account
emails, newest first, a page at a time, without copying any of them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clock import utcnow
from crm import contact
from crm.models import ContactEvent
from diary import account_mail
from diary.errors import NotFound, ValidationError
from journeys.models import CampaignSend, Delivery, EmailClick, InboxMessage
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def note(**changes):
    values = dict(department="service", channel="phone", direction="inbound",
                  outcome="resolved", subject="Asked about nappy sizes", body="Size 2 fits.")
    values.update(changes)
    return contact.NoteInput(**values)


def test_a_note_is_stored_with_its_author_and_time(session, make_family):
    parent, _ = make_family()
    staff = make_staff(session, "service")
    when = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    event = contact.add_note(session, parent, staff, note(occurred_at=when,
                                                          body="  Size 2 fits.\r\n "))
    session.commit()
    assert (event.user_id, event.author_id, event.author_member_no, event.occurred_at,
            event.body, event.source_kind, event.source_id) == (
        parent.id, staff.id, staff.member_no, when, "Size 2 fits.", "staff_note", None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"department": "account"}, "department"), ({"department": "x"}, "department"),
    ({"channel": "inbox"}, "channel"), ({"direction": "sideways"}, "direction"),
    ({"outcome": "sent"}, "outcome"), ({"subject": "   "}, "subject"),
    ({"subject": "x" * 121}, "subject"), ({"body": "x" * 4001}, "body"),
    ({"subject": "a\x00b"}, "subject"), ({"body": "bell\x07"}, "body"),
    ({"occurred_at": datetime(2026, 11, 24, tzinfo=UTC)}, "occurred_at"),
    ({"occurred_at": datetime(1999, 12, 31, tzinfo=UTC)}, "occurred_at"),
    ({"occurred_at": datetime(2026, 11, 22)}, "occurred_at")])
def test_bad_notes_are_refused_with_the_field(session, make_family, changes, field):
    parent, _ = make_family()
    staff = make_staff(session, "service")
    with pytest.raises(ValidationError) as refused:
        contact.add_note(session, parent, staff, note(**changes))
    assert refused.value.field == field
    assert session.scalar(select(func.count()).select_from(ContactEvent)) == 0


def test_notes_are_about_customers_and_by_staff(session, make_family):
    parent, _ = make_family()
    other, _ = make_family()
    staff = make_staff(session, "service")
    with pytest.raises(NotFound):
        contact.add_note(session, make_staff(session, "analyst"), staff, note())
    with pytest.raises(ValidationError):
        contact.add_note(session, parent, other, note())


def test_a_form_sent_twice_makes_one_note(session, make_family):
    parent, _ = make_family()
    other, _ = make_family()
    staff = make_staff(session, "service")
    submission = "ab" * 16
    first = contact.add_note(session, parent, staff, note(submission_id=submission))
    again = contact.add_note(session, parent, staff, note(submission_id=submission))
    assert first.id == again.id
    with pytest.raises(ValidationError):
        contact.add_note(session, other, staff, note(submission_id=submission))
    odd = contact.add_note(session, parent, staff, note(submission_id="not-an-id"))
    assert odd.source_id is None
    assert session.scalar(select(func.count()).select_from(ContactEvent)) == 2


def test_the_timeline_merges_every_source_newest_first(session, make_family):
    parent, child = make_family()
    staff = make_staff(session, "service")
    now = utcnow()
    inbox = Delivery(user_id=parent.id, child_id=child.id, item_key="article:x",
                     channel="inbox", occurrence="j1:bw-1", status="sent",
                     sent_at=now - timedelta(days=3), payload={"title": "Sleep tips"})
    email = Delivery(user_id=parent.id, child_id=child.id, item_key="campaign:baby_birthday",
                     channel="email", occurrence="baby_birthday:2026", status="sent",
                     sent_at=now - timedelta(days=2), payload={"title": "Happy birthday"})
    failed = Delivery(user_id=parent.id, child_id=0, item_key="digest:2026-W47",
                      channel="email", occurrence="2026-W47", status="dead",
                      created_at=now - timedelta(days=1))
    session.add_all([inbox, email, failed])
    session.flush()
    session.add_all([
        InboxMessage(user_id=parent.id, child_id=child.id, delivery_id=inbox.id,
                     title="Sleep tips", read_at=now),
        EmailClick(delivery_id=email.id, user_id=parent.id, item_key="x", url="/"),
        CampaignSend(campaign="baby_birthday", user_id=parent.id, child_id=child.id,
                     occurrence="2026", goal="product_click", delivery_id=email.id,
                     converted_at=now),
        CampaignSend(campaign="we_miss_you", user_id=parent.id, child_id=0,
                     occurrence="2026-11", goal="visit", holdout=True,
                     created_at=now - timedelta(days=4))])
    mail = account_mail.queue(session, account_mail.VERIFY_ADDRESS, parent.email, user=parent)
    mail.created_at = now - timedelta(days=5)
    contact.add_note(session, parent, staff, note(occurred_at=now - timedelta(hours=1)))
    other, _ = make_family()
    contact.add_note(session, other, staff, note(subject="Not this customer"))
    session.commit()

    page = contact.timeline(session, parent)
    assert [(c.source, c.channel, c.outcome, c.subject, c.signals) for c in page.items] == [
        ("note", "phone", "resolved", "Asked about nappy sizes", []),
        ("delivery", "email", "dead", "2026-W47", []),
        ("delivery", "email", "sent", "Happy birthday", ["clicked", "converted"]),
        ("delivery", "inbox", "sent", "Sleep tips", ["read"]),
        ("holdout", "note", "held_out", "we_miss_you", []),
        ("account_email", "email", "pending", "verify_address", [])]
    assert page.items[0].author.id == staff.id and page.items[2].campaign == "baby_birthday"
    assert contact.counts(session, parent) == {"note": 1, "delivery": 3, "holdout": 1,
                                               "account_email": 1}
    second = contact.timeline(session, parent, page=2, per_page=4)
    assert (second.total, second.pages, second.number, [c.source for c in second.items]) == \
        (6, 2, 2, ["holdout", "account_email"])
    assert contact.timeline(session, parent, page=10**9, per_page=4).number == 2
