"""What the care package keeps about a person, in their data export (see `diary.privacy`).

- `tickets`: their questions and complaints: category, severity, subject, status, dates, and
  the conversation (their messages and the service team's replies; never the staff's
  internal notes, which are staff work about the ticket, nor which staff member wrote what),
  with the names of the photos they sent;
- the ticket events are in the contact history (`crm.privacy`).
- `surveys`: every satisfaction survey offered to them (what it asked about, when, how it was
  sent) with their score and comment, the follow-up staff opened after a low score (its
  status and dates; not which staff member) and the key moments still waiting to be asked;
- `help_votes`: their "was this helpful?" answers in the help centre (which FAQ, yes or no).

All go with the account: their foreign keys cascade. Canned replies and the inbound-mail
integrations are staff work and configuration about no customer; the survey throttle (when
they were last asked, which the offers above show too) is declared not personal.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from care.models import FaqVote, SurveyMoment, SurveyOffer, Ticket, TicketMessage
from content.models import ContentItem
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


OFFER_FIELDS = ("kind", "trigger", "subject_ref", "channels", "offered_at", "score", "comment",
                "answered_at", "answered_via", "commented_at")
FOLLOW_UP_FIELDS = ("status", "note", "created_at", "done_at")
MOMENT_FIELDS = ("trigger", "subject_ref", "due_at", "status")


def _surveys(session: Session, scope: ExportScope) -> dict[str, Any]:
    offers = session.scalars(select(SurveyOffer).where(SurveyOffer.user_id == scope.user.id)
                             .options(selectinload(SurveyOffer.follow_up))
                             .order_by(SurveyOffer.offered_at, SurveyOffer.id))
    moments = session.scalars(select(SurveyMoment).where(
        SurveyMoment.user_id == scope.user.id).order_by(SurveyMoment.due_at, SurveyMoment.id))
    return {"offers": [row_dict(o, OFFER_FIELDS) | {
        "follow_up": row_dict(o.follow_up, FOLLOW_UP_FIELDS) if o.follow_up else None}
        for o in offers], "moments": [row_dict(m, MOMENT_FIELDS) for m in moments]}


def _votes(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(select(ContentItem.key, FaqVote.helpful, FaqVote.updated_at)
                           .join(ContentItem, ContentItem.id == FaqVote.item_id)
                           .where(FaqVote.user_id == scope.user.id).order_by(FaqVote.id))
    return [{"faq": key, "helpful": helpful, "at": iso(at)} for key, helpful, at in rows]


def register(registry: ExportRegistry) -> None:
    """Add this package's sections to the export registry."""
    registry.add(Section("tickets", ("care_tickets", "care_ticket_messages",
                                     "care_ticket_attachments", "care_ticket_events"),
                         _tickets))
    registry.not_exported("care_canned_replies",
                          "the service team's canned replies: staff work, about no customer")
    registry.not_exported("care_inbound_integrations",
                          "the mail provider's integration keys (hashes): configuration")
    registry.add(Section("surveys", ("survey_offers", "survey_follow_ups", "survey_moments"),
                         _surveys),
                 Section("help_votes", ("faq_votes",), _votes))
    registry.not_exported("survey_throttles",
                          "when the person was last offered a survey and an NPS survey: the "
                          "offers in the surveys section show the same times")
