"""Questions and complaints: tickets, their conversation, the staff queue and its promise.

A parent opens a ticket ("Ask us"), with a category, a severity, a subject, a message, maybe
a child and photos; customer service answers in the ticket (the parent is emailed a link and
can answer on the site or by replying to the email), writes internal notes the parent never
sees, assigns it to a department or an agent, and moves it through its statuses:

    new → in_progress → waiting (on the customer) → resolved

A reply from the parent puts a waiting or resolved ticket back in progress. Every ticket has
a first-response promise (`care.sla`: business hours, per category), worked out when it is
opened; the escalation job (`escalate_breached`) escalates each breached ticket exactly once.

Every event (opened, replies of either side, status changes, assignment, escalation,
resolution, privacy requests fulfilled) is a `TicketEvent` and a `crm.models.ContactEvent`
(`source_kind` "ticket", `source_id` the event's id), so the customer 360 shows it. Internal
notes are events of the ticket only: they never reach the contact history, which the
customer can download.

`resolve(...)` is the one place a ticket becomes resolved: the hook for anything that follows
a resolution (a satisfaction survey).
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from care import sla, surveys
from care.models import (
    CannedReply,
    InboundMailIntegration,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
)
from clock import utcnow
from crm.contact import DEPARTMENTS
from crm.models import ContactEvent
from db import rowcount
from diary import account_mail, families
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.integration_keys import IntegrationKeys
from diary.models import User

CATEGORIES: dict[str, str] = {
    "question": N_("Question"),
    "complaint": N_("Product complaint"),
    "site": N_("Site problem"),
    "suggestion": N_("Suggestion"),
    "privacy": N_("Privacy request"),
    "sample": N_("Sample request"),  # opened by a redemption of reward points, not asked
}
#: What a parent chooses from when asking (a sample request comes from the rewards page).
ASKED_CATEGORIES = {key: label for key, label in CATEGORIES.items() if key != "sample"}
SEVERITIES: dict[str, str] = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
STATUSES: dict[str, str] = {
    "new": N_("New"),
    "in_progress": N_("In progress"),
    "waiting": N_("Waiting on customer"),
    "resolved": N_("Resolved"),
}
OPEN_STATUSES = ("new", "in_progress", "waiting")
EVENT_KINDS: dict[str, str] = {
    "opened": N_("Opened"),
    "customer_reply": N_("Customer replied"),
    "staff_reply": N_("We replied"),
    "note": N_("Internal note"),
    "status": N_("Status changed"),
    "assigned": N_("Assigned"),
    "escalated": N_("Escalated"),
    "resolved": N_("Resolved"),
    "reopened": N_("Reopened"),
    "privacy_export": N_("Data export offered"),
    "privacy_delete": N_("Account deleted"),
}
SOURCE_KIND = "ticket"
SUBJECT_MAX = 200
BODY_MAX = 5000
MAX_ATTACHMENTS = 4
PATH_MAX = 500
CANNED_TITLE_MAX = 120


@dataclass(frozen=True)
class TicketInput:
    category: str
    severity: str
    subject: str
    body: str
    child_id: int | None = None
    from_path: str = ""


@dataclass(frozen=True)
class Stored:
    """An attachment already re-encoded and in the photo store (the web layer does that)."""

    key: str
    width: int
    height: int


# --- small checks ----------------------------------------------------------------------------

def _text(value: str | None, limit: int, field_name: str, required: bool = True) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in text):
        raise ValidationError(N_("This text has characters that cannot be stored."),
                              field_name)
    if required and not text:
        raise ValidationError(N_("Please fill this in."), field_name)
    if len(text) > limit:
        raise ValidationError(N_("Please keep this under %(count)d characters."), field_name,
                              count=limit)
    return text


def safe_path(value: str | None) -> str:
    """A same-site relative path ("/library/articles/x?y=1"), or "" for anything else: an
    absolute or scheme-relative URL, backslashes, control characters, an overlong path."""
    text = (value or "").strip()
    if not text or len(text) > PATH_MAX or not text.startswith("/") or text.startswith("//"):
        return ""
    if "\\" in text or any(ord(c) < 33 or ord(c) == 127 for c in text):
        return ""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return ""
    return text


def _choice(value: str, allowed: Iterable[str], field_name: str) -> str:
    if value not in tuple(allowed):
        raise ValidationError(N_("Choose one of the options."), field_name)
    return value


# --- events and the contact history ----------------------------------------------------------

def _event(session: Session, ticket: Ticket, kind: str, now: datetime,
           staff: User | None = None, *, direction: str = "internal", channel: str = "ticket",
           outcome: str = "follow_up", body: str = "", contact: bool = True,
           **detail: Any) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, at=now,
                        staff_id=staff.id if staff is not None else None, detail=detail)
    session.add(event)
    session.flush()
    if contact:
        session.add(ContactEvent(
            user_id=ticket.user_id, occurred_at=now, department=ticket.department,
            channel=channel, direction=direction, outcome=outcome,
            subject=f"#{ticket.id} {ticket.subject}"[:120], body=body[:4000],
            author_id=staff.id if staff is not None else None,
            author_member_no=staff.member_no if staff is not None else None,
            source_kind=SOURCE_KIND, source_id=str(event.id), created_at=now))
        session.flush()
    return event


def _message(session: Session, ticket: Ticket, author_kind: str, body: str, now: datetime,
             staff: User | None = None, internal: bool = False, via: str = "site",
             email_message_id: str | None = None,
             attachments: Iterable[Stored] = ()) -> TicketMessage:
    stored = list(attachments)
    if len(stored) > MAX_ATTACHMENTS:
        raise ValidationError(N_("Attach at most %(count)d photos."), "photos",
                              count=MAX_ATTACHMENTS)
    message = TicketMessage(ticket_id=ticket.id, author_kind=author_kind,
                            staff_id=staff.id if staff else None, internal=internal,
                            body=body, via=via, email_message_id=email_message_id,
                            created_at=now)
    session.add(message)
    session.flush()
    for item in stored:
        session.add(TicketAttachment(message_id=message.id, ticket_id=ticket.id,
                                     storage_key=item.key, width=item.width,
                                     height=item.height, created_at=now))
    session.flush()
    return message


# --- parents ---------------------------------------------------------------------------------

def open_ticket(session: Session, user: User, data: TicketInput, policy: sla.Policy,
                attachments: Iterable[Stored] = (), now: datetime | None = None) -> Ticket:
    """A parent's new ticket, with its first message and its promise."""
    now = now or utcnow()
    if user.is_staff:
        raise ValidationError(N_("Staff answer tickets; they do not open them."))
    category = _choice(data.category, CATEGORIES, "category")
    severity = _choice(data.severity, SEVERITIES, "severity")
    subject = _text(data.subject, SUBJECT_MAX, "subject")
    if "\n" in subject or "\t" in subject:  # it becomes an email's subject line
        raise ValidationError(N_("This text has characters that cannot be stored."), "subject")
    body = _text(data.body, BODY_MAX, "body")
    child_id = None
    if data.child_id:
        if data.child_id not in {c.id for c in families.children_of(session, user)}:
            raise ValidationError(N_("Choose one of the options."), "child_id")
        child_id = data.child_id
    due = sla.due_at(now, policy.hours_for(category), policy.calendar)
    ticket = Ticket(user_id=user.id, child_id=child_id, category=category, severity=severity,
                    status="new", department="service", subject=subject,
                    from_path=safe_path(data.from_path), opened_at=now,
                    first_response_due_at=due, updated_at=now)
    session.add(ticket)
    session.flush()
    _message(session, ticket, "customer", body, now, attachments=attachments)
    _event(session, ticket, "opened", now, direction="inbound",
           outcome="complaint" if category == "complaint" else "follow_up", body=body,
           category=category, severity=severity)
    return ticket


def customer_tickets(session: Session, user: User) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.user_id == user.id)
                                .order_by(Ticket.updated_at.desc(), Ticket.id.desc())))


def ticket_for_customer(session: Session, user: User, ticket_id: int) -> Ticket:
    """The parent's own ticket; anyone else's is NotFound (the same as a missing one)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.user_id != user.id:
        raise NotFound()
    return ticket


def visible_messages(ticket: Ticket) -> list[TicketMessage]:
    """The conversation as the parent sees it: internal notes left out."""
    return [m for m in ticket.messages if not m.internal]


def customer_reply(session: Session, user: User, ticket: Ticket, body: str,
                   attachments: Iterable[Stored] = (), now: datetime | None = None,
                   via: str = "site", email_message_id: str | None = None) -> TicketMessage:
    """The parent answers: a waiting or resolved ticket goes back in progress."""
    now = now or utcnow()
    if ticket.user_id != user.id:
        raise NotFound()
    text = _text(body, BODY_MAX, "body")
    message = _message(session, ticket, "customer", text, now, via=via,
                       email_message_id=email_message_id, attachments=attachments)
    _event(session, ticket, "customer_reply", now, direction="inbound",
           channel="email" if via == "email" else "ticket", body=text, message_id=message.id)
    if ticket.status == "resolved":
        ticket.resolved_at = None
        _event(session, ticket, "reopened", now, contact=False)
    if ticket.status in ("waiting", "resolved"):
        ticket.status = "in_progress"
    ticket.updated_at = now
    return message


def attachment_for_customer(session: Session, user: User, ticket_id: int,
                            attachment_id: int) -> TicketAttachment:
    ticket = ticket_for_customer(session, user, ticket_id)
    found = session.get(TicketAttachment, attachment_id)
    if found is None or found.ticket_id != ticket.id or found.message.internal:
        raise NotFound()
    return found


def attachment_for_staff(session: Session, ticket_id: int,
                         attachment_id: int) -> TicketAttachment:
    found = session.get(TicketAttachment, attachment_id)
    if found is None or found.ticket_id != ticket_id:
        raise NotFound()
    return found


# --- staff -----------------------------------------------------------------------------------

def ticket_for_staff(session: Session, ticket_id: int) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).options(
        selectinload(Ticket.messages).selectinload(TicketMessage.attachments)))
    if ticket is None:
        raise NotFound()
    return ticket


def events_of(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.at, TicketEvent.id)))


def _staff_only(staff: User) -> None:
    if not staff.is_staff:
        raise NotFound()


def staff_reply(session: Session, staff: User, ticket: Ticket, body: str,
                status: str = "waiting", now: datetime | None = None,
                notify: bool = True) -> TicketMessage:
    """A reply the parent sees (and is emailed about, unless `notify` is False: demo
    history). The first one keeps the promise."""
    now = now or utcnow()
    _staff_only(staff)
    text = _text(body, BODY_MAX, "body")
    status = _choice(status, STATUSES, "status")
    message = _message(session, ticket, "staff", text, now, staff=staff)
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    _event(session, ticket, "staff_reply", now, staff, direction="outbound", outcome="informed",
           body=text, message_id=message.id)
    customer = session.get(User, ticket.user_id)
    if notify and customer is not None and customer.is_active:
        account_mail.queue(session, account_mail.TICKET_REPLY, customer.email, user=customer,
                           locale=customer.locale, ticket_id=ticket.id,
                           message_id=message.id)
    if status == "resolved":
        resolve(session, ticket, staff, now)
    elif status != ticket.status:
        _set_status(session, ticket, status, staff, now)
    ticket.updated_at = now
    return message


def add_note(session: Session, staff: User, ticket: Ticket, body: str,
             now: datetime | None = None) -> TicketMessage:
    """An internal note: staff only, never shown to the parent nor in their contact history."""
    now = now or utcnow()
    _staff_only(staff)
    text = _text(body, BODY_MAX, "body")
    message = _message(session, ticket, "staff", text, now, staff=staff, internal=True)
    _event(session, ticket, "note", now, staff, contact=False, message_id=message.id)
    ticket.updated_at = now
    return message


def _set_status(session: Session, ticket: Ticket, status: str, staff: User | None,
                now: datetime) -> None:
    before = ticket.status
    ticket.status = status
    if before == "resolved" and status != "resolved":
        ticket.resolved_at = None
    _event(session, ticket, "status", now, staff, body=f"{STATUSES[before]} → {STATUSES[status]}",
           before=before, after=status)


def set_status(session: Session, staff: User, ticket: Ticket, status: str,
               now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    _staff_only(staff)
    status = _choice(status, STATUSES, "status")
    if status == ticket.status:
        return ticket
    if status == "resolved":
        return resolve(session, ticket, staff, now)
    _set_status(session, ticket, status, staff, now)
    ticket.updated_at = now
    return ticket


def resolve(session: Session, ticket: Ticket, staff: User | None = None,
            now: datetime | None = None) -> Ticket:
    """Mark the ticket resolved (once; resolving a resolved ticket changes nothing) and
    record it, and offer the customer a CSAT survey about it (`care.surveys`: never more
    than one survey a week). The one place a ticket becomes resolved."""
    now = now or utcnow()
    if ticket.status == "resolved":
        return ticket
    before = ticket.status
    ticket.status, ticket.resolved_at, ticket.updated_at = "resolved", now, now
    _event(session, ticket, "resolved", now, staff, outcome="resolved",
           body=f"{STATUSES[before]} → {STATUSES['resolved']}", before=before)
    customer = session.get(User, ticket.user_id)
    if customer is not None:  # "how did we do?": unless surveyed this week or for this ticket
        surveys.offer_csat(session, customer, "ticket", f"ticket:{ticket.id}", now=now)
    return ticket


def assign(session: Session, staff: User, ticket: Ticket, department: str,
           assignee_id: int | None, now: datetime | None = None) -> Ticket:
    """Give the ticket to a department and, optionally, to one agent (a staff member)."""
    now = now or utcnow()
    _staff_only(staff)
    department = _choice(department, [d for d in DEPARTMENTS if d != "account"], "department")
    assignee = None
    if assignee_id:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.is_staff or not assignee.is_active:
            raise ValidationError(N_("Choose one of the options."), "assignee_id")
    if (department, assignee_id or None) == (ticket.department, ticket.assignee_id):
        return ticket
    ticket.department = department
    ticket.assignee_id = assignee.id if assignee else None
    if ticket.status == "new" and assignee is not None:
        ticket.status = "in_progress"
    ticket.updated_at = now
    _event(session, ticket, "assigned", now, staff,
           body=f"{department} · {assignee.display_name if assignee else '-'}",
           department=department, assignee_id=ticket.assignee_id)
    return ticket


def staff_members(session: Session, roles: Iterable[str] = ("service", "admin")) -> list[User]:
    """Who a ticket can be assigned to."""
    return list(session.scalars(select(User).where(
        User.staff_role.in_(tuple(roles)), User.is_active.is_(True))
        .order_by(User.display_name, User.id)))


def breached_clause(now: datetime) -> Any:
    return or_(and_(Ticket.first_responded_at.is_(None), Ticket.status != "resolved",
                    Ticket.first_response_due_at < now),
               Ticket.first_responded_at > Ticket.first_response_due_at)


def escalate_breached(session: Session, now: datetime | None = None,
                      lead: User | None = None, limit: int = 200) -> list[Ticket]:
    """Escalate every open, unanswered ticket past its promise, once each: the conditional
    UPDATE on `escalated_at` decides, however often (or in how many processes) this runs.
    An escalated ticket goes to `lead` when one is given."""
    now = now or utcnow()
    ids = list(session.scalars(select(Ticket.id).where(
        Ticket.escalated_at.is_(None), Ticket.first_responded_at.is_(None),
        Ticket.status != "resolved", Ticket.first_response_due_at < now)
        .order_by(Ticket.first_response_due_at, Ticket.id).limit(limit)))
    done = []
    for ticket_id in ids:
        won = rowcount(session.execute(
            update(Ticket).where(Ticket.id == ticket_id, Ticket.escalated_at.is_(None))
            .values(escalated_at=now).execution_options(synchronize_session=False)))
        if not won:
            continue
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        assert ticket is not None
        if lead is not None and lead.is_staff and lead.is_active:
            ticket.assignee_id = lead.id
        ticket.updated_at = now
        _event(session, ticket, "escalated", now,
               body=f"due {ticket.first_response_due_at:%Y-%m-%d %H:%M} UTC",
               due=ticket.first_response_due_at.isoformat(),
               lead_id=lead.id if lead is not None else None)
        done.append(ticket)
    return done


def record_privacy(session: Session, staff: User, ticket: Ticket, action: str,
                   now: datetime | None = None) -> TicketEvent:
    """A privacy request fulfilled from the ticket ("export" or "delete")."""
    now = now or utcnow()
    _staff_only(staff)
    if ticket.category != "privacy":
        raise ValidationError(N_("Only a privacy request can be fulfilled this way."))
    kind = {"export": "privacy_export", "delete": "privacy_delete"}.get(action)
    if kind is None:
        raise ValidationError(N_("Choose one of the options."), "action")
    return _event(session, ticket, kind, now, staff, direction="outbound", outcome="resolved",
                  body=kind)


def attachment_keys(session: Session, user: User) -> list[str]:
    """Storage keys of every photo on the user's tickets (deleted from disk with them)."""
    return list(session.scalars(select(TicketAttachment.storage_key).join(
        Ticket, Ticket.id == TicketAttachment.ticket_id).where(Ticket.user_id == user.id)))


# --- the queue -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    status: str = ""  # "" all, "open", or a status
    category: str = ""
    department: str = ""
    assignee: str = ""  # "" anyone, "none" unassigned, or a staff id
    breached: bool = False


@dataclass
class Row:
    ticket: Ticket
    customer: User
    assignee: User | None
    clock: sla.Clock


def queue(session: Session, filters: Filters, policy: sla.Policy,
          now: datetime | None = None, limit: int = 200) -> list[Row]:
    """The staff queue, open tickets first by due time."""
    now = now or utcnow()
    query = select(Ticket)
    if filters.status == "open":
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif filters.status in STATUSES:
        query = query.where(Ticket.status == filters.status)
    if filters.category in CATEGORIES:
        query = query.where(Ticket.category == filters.category)
    if filters.department in DEPARTMENTS:
        query = query.where(Ticket.department == filters.department)
    if filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(Ticket.assignee_id == int(filters.assignee))
    if filters.breached:
        query = query.where(breached_clause(now))
    tickets = list(session.scalars(query.order_by(
        (Ticket.status == "resolved"), Ticket.first_response_due_at, Ticket.id).limit(limit)))
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(
        {t.user_id for t in tickets} | {t.assignee_id for t in tickets if t.assignee_id})))}
    return [Row(t, people[t.user_id], people.get(t.assignee_id) if t.assignee_id else None,
                sla.standing(t.first_response_due_at, t.first_responded_at, now, policy))
            for t in tickets]


def tickets_of_customer(session: Session, user: User) -> list[Ticket]:
    """The customer's tickets, for the customer 360."""
    return customer_tickets(session, user)


# --- the report ------------------------------------------------------------------------------

@dataclass
class Line:
    key: str
    opened: int = 0
    answered: int = 0
    due: int = 0  # answered, or past their due time unanswered: the promise can be judged
    in_time: int = 0
    hours: list[float] = field(default_factory=list)  # business hours to the first answer

    @property
    def share_in_time(self) -> float | None:
        return self.in_time / self.due if self.due else None

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None


@dataclass
class Report:
    total: Line
    by_category: list[Line]
    by_month: list[Line]


def report(session: Session, policy: sla.Policy, since: datetime, until: datetime,
           now: datetime | None = None) -> Report:
    """Share answered within the promise and median first response (business hours), for
    tickets opened in [since, until), overall, by category and by month (team's time zone)."""
    now = now or utcnow()
    total = Line("all")
    categories = {key: Line(key) for key in CATEGORIES}
    months: dict[str, Line] = {}
    zone = policy.calendar.zone
    for t in session.scalars(select(Ticket).where(Ticket.opened_at >= since,
                                                  Ticket.opened_at < until)
                             .order_by(Ticket.opened_at)):
        month = t.opened_at.astimezone(zone).strftime("%Y-%m")
        lines = (total, categories.setdefault(t.category, Line(t.category)),
                 months.setdefault(month, Line(month)))
        for line in lines:
            line.opened += 1
            if t.first_responded_at is not None:
                line.answered += 1
                line.due += 1
                line.hours.append(sla.business_time(
                    t.opened_at, t.first_responded_at, policy.calendar).total_seconds() / 3600)
                if t.first_responded_at <= t.first_response_due_at:
                    line.in_time += 1
            elif t.first_response_due_at < now:
                line.due += 1
    return Report(total, [categories[k] for k in categories if categories[k].opened],
                  [months[k] for k in sorted(months)])


# --- canned replies --------------------------------------------------------------------------

def canned_replies(session: Session) -> list[CannedReply]:
    return list(session.scalars(select(CannedReply).order_by(CannedReply.title,
                                                             CannedReply.id)))


def save_canned(session: Session, staff: User, reply_id: int | None, title: str,
                body_en: str, body_zh: str, now: datetime | None = None) -> CannedReply:
    _staff_only(staff)
    title = _text(title, CANNED_TITLE_MAX, "title")
    en = _text(body_en, BODY_MAX, "body_en", required=False)
    zh = _text(body_zh, BODY_MAX, "body_zh", required=False)
    if not en and not zh:
        raise ValidationError(N_("Write the reply in at least one language."), "body_en")
    if reply_id:
        reply = session.get(CannedReply, reply_id)
        if reply is None:
            raise NotFound()
    else:
        reply = CannedReply()
        session.add(reply)
    reply.title, reply.body_en, reply.body_zh = title, en, zh
    reply.updated_at = now or utcnow()
    session.flush()
    return reply


def delete_canned(session: Session, staff: User, reply_id: int) -> None:
    _staff_only(staff)
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound()
    session.delete(reply)


# --- replies by email ------------------------------------------------------------------------

KEY_PREFIX = "bjmail_"
MESSAGE_ID_MAX = 255
INTEGRATIONS = IntegrationKeys(InboundMailIntegration, KEY_PREFIX)
create_integration = INTEGRATIONS.create
integration_for_key = INTEGRATIONS.for_key
revoke_integration = INTEGRATIONS.revoke


_QUOTED = re.compile(r"^\s*>", re.MULTILINE)
_ON_WROTE = re.compile(r"^\s*(On .+ wrote:|.*在.+写道[:：])\s*$", re.MULTILINE)


def strip_quoted(text: str) -> str:
    """The new part of an emailed reply: what comes before the quoted earlier message."""
    text = (text or "").replace("\r\n", "\n")
    cut = len(text)
    for pattern in (_ON_WROTE, _QUOTED):
        found = pattern.search(text)
        if found:
            cut = min(cut, found.start())
    return text[:cut].strip()


def thread_inbound(session: Session, ticket_id: int, user_id: int, message_id: str,
                   text: str, now: datetime | None = None) -> tuple[TicketMessage, bool]:
    """Put a parent's emailed reply on their ticket (the signed reply address named both).
    The same Message-ID twice is the message already threaded: (message, False)."""
    message_id = (message_id or "").strip()
    if not message_id or len(message_id) > MESSAGE_ID_MAX:
        raise ValidationError(N_("The email has no usable Message-ID."), "message_id")
    earlier = session.scalar(select(TicketMessage).where(
        TicketMessage.email_message_id == message_id))
    if earlier is not None:
        if earlier.ticket_id != ticket_id:
            raise Conflict(N_("This Message-ID belongs to another ticket."))
        return earlier, False
    ticket = session.get(Ticket, ticket_id)
    user = session.get(User, user_id)
    if ticket is None or user is None or ticket.user_id != user.id or not user.is_active:
        raise NotFound()
    body = strip_quoted(text)
    return customer_reply(session, user, ticket, body, now=now, via="email",
                          email_message_id=message_id), True


def ticket_counts(session: Session, user: User) -> dict[str, int]:
    """How many tickets the customer has, open and in all (for the customer 360)."""
    rows = dict(session.execute(select(Ticket.status, func.count()).where(
        Ticket.user_id == user.id).group_by(Ticket.status)).all())
    return {"open": sum(rows.get(s, 0) for s in OPEN_STATUSES),
            "all": sum(rows.values())}


def minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
