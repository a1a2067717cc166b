"""What the care package keeps about a person, in their data export (see `diary.privacy`).

- `tickets`: their questions and complaints: category, severity, subject, status, dates, and
  the conversation (their messages and the service team's replies; never the staff's
  internal notes, which are staff work about the ticket, nor which staff member wrote what),
  with the names of the photos they sent;
- the ticket events are in the contact history (`crm.privacy`).

All go with the account: the foreign keys cascade. Canned replies and the inbound-mail
integrations are staff work and configuration about no customer.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from care.models import Ticket, TicketMessage
from diary.privacy import ExportRegistry, ExportScope, Section, iso, row_dict

TICKET_FIELDS = ("id", "category", "severity", "status", "subject", "from_path", "opened_at",
                 "first_response_due_at", "first_responded_at", "resolved_at")


def _tickets(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(Ticket).where(Ticket.user_id == scope.user.id)
                           .options(selectinload(Ticket.messages)
                                    .selectinload(TicketMessage.attachments))
                           .order_by(Ticket.opened_at, Ticket.id))
    out = []
    for ticket in rows:
        item = row_dict(ticket, TICKET_FIELDS)
        item["messages"] = [{
            "at": iso(m.created_at), "from": "you" if m.author_kind == "customer" else "us",
            "via": m.via, "text": m.body,
            "photos": [a.storage_key for a in m.attachments]}
            for m in ticket.messages if not m.internal]
        out.append(item)
    return out


def register(registry: ExportRegistry) -> None:
    """Add this package's sections to the export registry."""
    registry.add(Section("tickets", ("care_tickets", "care_ticket_messages",
                                     "care_ticket_attachments", "care_ticket_events"),
                         _tickets))
    registry.not_exported("care_canned_replies",
                          "the service team's canned replies: staff work, about no customer")
    registry.not_exported("care_inbound_integrations",
                          "the mail provider's integration keys (hashes): configuration")
