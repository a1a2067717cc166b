"""Contact history: every contact with a customer, across departments and channels.

Most contacts are recorded where they happen and are read from there, never copied:

- `journeys.models.Delivery`: each inbox push and email (journey steps, digests, campaign
  messages), with its status; whether the inbox message was read and the email's links
  followed (`InboxMessage.read_at`, `EmailClick`), and the campaign it was for;
- `journeys.models.CampaignSend` rows held out of a campaign (the control group: nothing was
  sent, on purpose);
- `diary.models.AccountEmail`: the account's own emails (address checks, password resets…).

Only what no other table holds is stored here (`crm.models.ContactEvent`): staff calls and
notes, written on the customer's page (later tickets and surveys, by their `source_kind`).
`timeline` merges them all, newest first, a page at a time, in one UNION query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session, selectinload

from clock import utcnow
from content.models import ContentItem
from crm.models import ContactEvent
from crm.paging import Page, page_of
from diary.errors import N_, NotFound, ValidationError
from diary.models import AccountEmail, User
from journeys.models import CampaignSend, Delivery, EmailClick, InboxMessage, Journey

#: Who was in contact: the department, by its code, with the name shown.
DEPARTMENTS: dict[str, str] = {
    "service": N_("Customer service"),
    "care": N_("Parenting advice"),
    "sales": N_("Sales"),
    "marketing": N_("Marketing team"),
    "account": N_("Account"),  # the site's own account emails (not chosen for notes)
}
NOTE_DEPARTMENTS = ("service", "care", "sales", "marketing")
CHANNELS: dict[str, str] = {
    "phone": N_("Phone"),
    "email": N_("Email"),
    "chat": N_("Chat (WeChat)"),
    "sms": N_("Text message"),
    "in_person": N_("In person"),
    "note": N_("Internal note"),
    "inbox": N_("Site inbox"),  # pushes only
    "ticket": N_("Help ticket"),  # care.tickets: events of a question or complaint
}
NOTE_CHANNELS = ("phone", "email", "chat", "sms", "in_person", "note")
DIRECTIONS: dict[str, str] = {
    "inbound": N_("Customer contacted us"),
    "outbound": N_("We contacted the customer"),
    "internal": N_("Internal, no contact"),
}
OUTCOMES: dict[str, str] = {
    "resolved": N_("Resolved"),
    "follow_up": N_("Needs a follow-up"),
    "no_answer": N_("No answer"),
    "informed": N_("Information given"),
    "complaint": N_("Complaint"),
    # what the site's own messages did
    "sent": N_("Sent"),
    "pending": N_("Waiting to be sent"),
    "failed": N_("Failed, will retry"),
    "dead": N_("Gave up"),
    "suppressed": N_("Not sent (on purpose)"),
    "held_out": N_("Held out (control group)"),
}
NOTE_OUTCOMES = ("resolved", "follow_up", "no_answer", "informed", "complaint")
CAMPAIGN_NAMES: dict[str, str] = {
    "baby_birthday": N_("Baby's birthday"),
    "parent_birthday": N_("Parent's birthday"),
    "we_miss_you": N_("We miss you"),
}
ACCOUNT_EMAIL_NAMES: dict[str, str] = {
    "verify_address": N_("Address check"),
    "reset_password": N_("Password reset"),
    "address_in_use": N_("Address already in use"),
    "address_changing": N_("Address change requested"),
    "address_changed": N_("Address changed"),
    "invitation": N_("Invitation to a family"),
    "family_owner": N_("Now owns a family's book"),
    "ticket_reply": N_("Reply to a help ticket"),
    "survey": N_("Satisfaction survey"),
}
STAFF_NOTE = "staff_note"
SUBJECT_MAX = 120
BODY_MAX = 4000
#: A note may be dated this far ahead (a clock a little fast), and no further back than this.
FUTURE_SLACK = timedelta(minutes=10)
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
SUBMISSION_ID = re.compile(r"[0-9a-f]{32}")
PER_PAGE = 20


# --- staff notes -----------------------------------------------------------------------------

@dataclass
class NoteInput:
    department: str
    channel: str
    direction: str
    outcome: str
    subject: str
    body: str = ""
    occurred_at: datetime | None = None  # UTC; None: now
    #: The form's own id (32 hex): a form sent twice makes one note, not two.
    submission_id: str | None = None


def _text(value: str | None, limit: int, field_name: str, label: str,
          required: bool) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in text):
        raise ValidationError(N_("%(label)s has characters that cannot be stored."),
                              field_name, label=label)
    if required and not text:
        raise ValidationError(N_("Please fill in %(label)s."), field_name, label=label)
    if len(text) > limit:
        raise ValidationError(N_("%(label)s can be at most %(count)d characters."),
                              field_name, label=label, count=limit)
    return text


def add_note(session: Session, customer: User, staff: User, note: NoteInput,
             now: datetime | None = None) -> ContactEvent:
    """Record a staff call or note about a customer (the caller owns the transaction). A
    note sent again with the same `submission_id` is the note already recorded."""
    now = now or utcnow()
    if not staff.is_staff:
        raise ValidationError(N_("Only staff write contact notes."))
    if customer.is_staff:
        raise NotFound()
    for value, allowed, name in ((note.department, NOTE_DEPARTMENTS, "department"),
                                 (note.channel, NOTE_CHANNELS, "channel"),
                                 (note.direction, tuple(DIRECTIONS), "direction"),
                                 (note.outcome, NOTE_OUTCOMES, "outcome")):
        if value not in allowed:
            raise ValidationError(N_("Choose one of the options."), name)
    subject = _text(note.subject, SUBJECT_MAX, "subject", N_("Subject"), required=True)
    body = _text(note.body, BODY_MAX, "body", N_("Summary"), required=False)
    when = note.occurred_at or now
    if when.tzinfo is None:
        raise ValidationError(N_("Give the time with its time zone."), "occurred_at")
    if when > now + FUTURE_SLACK:
        raise ValidationError(N_("A contact cannot be in the future."), "occurred_at")
    if when < OLDEST:
        raise ValidationError(N_("A contact cannot be before the year 2000."), "occurred_at")
    submission = note.submission_id if note.submission_id and \
        SUBMISSION_ID.fullmatch(note.submission_id) else None
    if submission is not None:
        earlier = session.scalar(select(ContactEvent).where(
            ContactEvent.source_kind == STAFF_NOTE, ContactEvent.source_id == submission))
        if earlier is not None:
            if earlier.user_id != customer.id:
                raise ValidationError(N_("This form was already used. Please reload the page."))
            return earlier
    event = ContactEvent(
        user_id=customer.id, occurred_at=when, department=note.department,
        channel=note.channel, direction=note.direction, outcome=note.outcome, subject=subject,
        body=body, author_id=staff.id, author_member_no=staff.member_no,
        source_kind=STAFF_NOTE, source_id=submission, created_at=now)
    session.add(event)
    session.flush()
    return event


# --- the timeline ----------------------------------------------------------------------------

NOTE, DELIVERY, HOLDOUT, ACCOUNT_EMAIL = "note", "delivery", "holdout", "account_email"


@dataclass
class Contact:
    """One line of the contact history, whatever table it came from."""

    at: datetime
    source: str  # NOTE, DELIVERY, HOLDOUT, ACCOUNT_EMAIL
    source_id: int
    department: str
    channel: str
    direction: str
    outcome: str
    subject: str
    body: str = ""
    #: What else is known: "read" (inbox), "clicked" (email), "converted" (campaign goal).
    signals: list[str] = field(default_factory=list)
    context: str = ""  # the journey's name, or a campaign's code
    campaign: str | None = None
    author: User | None = None
    author_member_no: str | None = None
    #: A recorded contact's origin (`ContactEvent.source_kind`: "staff_note", "ticket" …).
    origin: str = ""


def _sources(user_id: int) -> Any:
    notes = select(literal(NOTE).label("source"), ContactEvent.id.label("id"),
                   ContactEvent.occurred_at.label("at")).where(ContactEvent.user_id == user_id)
    deliveries = select(literal(DELIVERY), Delivery.id,
                        func.coalesce(Delivery.sent_at, Delivery.created_at)
                        ).where(Delivery.user_id == user_id)
    holdouts = select(literal(HOLDOUT), CampaignSend.id, CampaignSend.created_at).where(
        CampaignSend.user_id == user_id, CampaignSend.holdout.is_(True))
    account = select(literal(ACCOUNT_EMAIL), AccountEmail.id,
                     func.coalesce(AccountEmail.sent_at, AccountEmail.created_at)
                     ).where(AccountEmail.user_id == user_id)
    return union_all(notes, deliveries, holdouts, account).subquery("contacts")


def counts(session: Session, user: User) -> dict[str, int]:
    """How many contacts of each source the customer has."""
    contacts = _sources(user.id)
    return {source: n for source, n in session.execute(
        select(contacts.c.source, func.count()).group_by(contacts.c.source))}


def timeline(session: Session, user: User, page: int = 1, per_page: int = PER_PAGE,
             locale: str = "en") -> Page[Contact]:
    """The customer's contacts, newest first, one page (see the module's docstring)."""
    contacts = _sources(user.id)
    total = session.scalar(select(func.count()).select_from(contacts)) or 0
    number, pages, offset = page_of(total, page, per_page)
    rows = session.execute(select(contacts.c.source, contacts.c.id, contacts.c.at)
                           .order_by(contacts.c.at.desc(), contacts.c.source, contacts.c.id.desc())
                           .offset(offset).limit(per_page)).all()
    wanted: dict[str, list[int]] = {}
    for source, row_id, _ in rows:
        wanted.setdefault(source, []).append(row_id)
    built: dict[tuple[str, int], Contact] = {}
    built.update(_notes(session, wanted.get(NOTE, [])))
    built.update(_deliveries(session, wanted.get(DELIVERY, []), locale))
    built.update(_holdouts(session, wanted.get(HOLDOUT, [])))
    built.update(_account_emails(session, wanted.get(ACCOUNT_EMAIL, [])))
    items = [built[(source, row_id)] for source, row_id, _ in rows
             if (source, row_id) in built]
    return Page(items, total, number, pages)


def _notes(session: Session, ids: list[int]) -> dict[tuple[str, int], Contact]:
    if not ids:
        return {}
    events = list(session.scalars(select(ContactEvent).where(ContactEvent.id.in_(ids))))
    authors = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_({e.author_id for e in events if e.author_id})))}
    return {(NOTE, e.id): Contact(
        at=e.occurred_at, source=NOTE, source_id=e.id, department=e.department,
        channel=e.channel, direction=e.direction, outcome=e.outcome, subject=e.subject,
        body=e.body, author=authors.get(e.author_id) if e.author_id else None,
        author_member_no=e.author_member_no, origin=e.source_kind) for e in events}


def _deliveries(session: Session, ids: list[int], locale: str
                ) -> dict[tuple[str, int], Contact]:
    if not ids:
        return {}
    rows = list(session.scalars(select(Delivery).where(Delivery.id.in_(ids))))
    item_ids = {(r.payload or {}).get("item_id") for r in rows} - {None}
    items = {i.id: i for i in session.scalars(
        select(ContentItem).where(ContentItem.id.in_(item_ids))
        .options(selectinload(ContentItem.translations)))} if item_ids else {}
    journey_ids = {r.journey_id for r in rows if r.journey_id}
    journeys = {j.id: j.name for j in session.scalars(
        select(Journey).where(Journey.id.in_(journey_ids)))} if journey_ids else {}
    read = set(session.scalars(select(InboxMessage.delivery_id).where(
        InboxMessage.delivery_id.in_(ids), InboxMessage.read_at.is_not(None))))
    clicked = set(session.scalars(select(EmailClick.delivery_id).where(
        EmailClick.delivery_id.in_(ids))))
    converted = set(session.scalars(select(CampaignSend.delivery_id).where(
        CampaignSend.delivery_id.in_(ids), CampaignSend.converted_at.is_not(None))))
    out = {}
    for r in rows:
        payload = r.payload or {}
        kind, _, key = r.item_key.partition(":")
        item = items.get(payload["item_id"]) if isinstance(payload.get("item_id"), int) \
            else None
        title = str(payload.get("title") or "") or key or r.item_key
        if item is not None:
            text = item.text(locale)
            title = text.title if text is not None and text.title else item.key
        signals = [name for name, ids_ in (("read", read), ("clicked", clicked),
                                           ("converted", converted)) if r.id in ids_]
        out[(DELIVERY, r.id)] = Contact(
            at=r.sent_at or r.created_at, source=DELIVERY, source_id=r.id,
            department="marketing", channel=r.channel, direction="outbound",
            outcome=r.status, subject=title[:200], signals=signals,
            context=journeys.get(r.journey_id, "") if r.journey_id else "",
            campaign=key if kind == "campaign" else None)
    return out


def _holdouts(session: Session, ids: list[int]) -> dict[tuple[str, int], Contact]:
    if not ids:
        return {}
    return {(HOLDOUT, s.id): Contact(
        at=s.created_at, source=HOLDOUT, source_id=s.id, department="marketing",
        channel="note", direction="internal", outcome="held_out", subject=s.campaign,
        campaign=s.campaign, signals=["converted"] if s.converted_at else [])
        for s in session.scalars(select(CampaignSend).where(CampaignSend.id.in_(ids)))}


def _account_emails(session: Session, ids: list[int]) -> dict[tuple[str, int], Contact]:
    if not ids:
        return {}
    return {(ACCOUNT_EMAIL, m.id): Contact(
        at=m.sent_at or m.created_at, source=ACCOUNT_EMAIL, source_id=m.id,
        department="account", channel="email", direction="outbound",
        outcome={"sent": "sent", "pending": "pending", "failed": "failed"}.get(m.status, "dead"),
        subject=m.kind) for m in session.scalars(
        select(AccountEmail).where(AccountEmail.id.in_(ids)))}
