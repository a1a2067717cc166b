"""What the journeys package adds to a person's data export (see `diary.privacy`).

The ledger rows addressed to the person (`deliveries`), their inbox messages, email
preferences, email clicks, campaign decisions (sent or held out), whether their address is
on the suppression list, and — for owners and editors — the children's journeys.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import ContentItem
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict
from journeys.models import (
    CampaignSend,
    Delivery,
    EmailClick,
    EmailPreference,
    Enrolment,
    InboxMessage,
    Journey,
    Suppression,
)


def _email_preferences(session: Session, scope: ExportScope) -> dict[str, Any] | None:
    pref = session.get(EmailPreference, scope.user.id)
    return None if pref is None else row_dict(pref, (
        "frequency", "send_hour", "quiet_start", "quiet_end", "paused_until", "topics",
        "surveys_by_email", "updated_at"))


def _suppression(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(Suppression).where(
        Suppression.email == scope.user.email.strip().lower()))
    return [row_dict(s, ("email", "reason", "created_at")) for s in rows]


def _inbox_messages(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(InboxMessage, ContentItem.kind, ContentItem.key)
        .outerjoin(ContentItem, ContentItem.id == InboxMessage.item_id)
        .where(InboxMessage.user_id == scope.user.id).order_by(InboxMessage.id))
    out = []
    for message, kind, key in rows:
        data = row_dict(message, ("id", "child_id", "stage_key", "title", "body",
                                  "created_at", "read_at"))
        data["item"] = f"{kind}:{key}" if key else None
        out.append(data)
    return out


def _deliveries(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(Delivery).where(Delivery.user_id == scope.user.id)
                           .order_by(Delivery.id))
    return [row_dict(d, ("id", "child_id", "item_key", "channel", "occurrence", "journey_id",
                         "status", "attempts", "payload", "last_error", "created_at",
                         "sent_at")) for d in rows]


def _email_clicks(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(EmailClick).where(EmailClick.user_id == scope.user.id)
                           .order_by(EmailClick.id))
    return [row_dict(c, ("delivery_id", "item_key", "url", "clicked_at")) for c in rows]


def _campaign_sends(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(CampaignSend).where(CampaignSend.user_id == scope.user.id)
                           .order_by(CampaignSend.id))
    return [row_dict(c, ("campaign", "child_id", "occurrence", "holdout", "goal",
                         "created_at", "converted_at")) for c in rows]


def _journeys(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    if not scope.child_ids:
        return []
    rows = session.execute(
        select(Enrolment, Journey.slug, Journey.name)
        .join(Journey, Journey.id == Enrolment.journey_id)
        .where(Enrolment.child_id.in_(scope.child_ids)).order_by(Enrolment.id))
    out = []
    for enrolment, slug, name in rows:
        data = row_dict(enrolment, ("child_id", "status", "stage_key", "stage_entered_on",
                                    "exit_reason", "enrolled_at", "entered_at", "holdout",
                                    "converted_at"))
        data["journey"] = {"slug": slug, "name": name}
        out.append(data)
    return out


def register(registry: ExportRegistry) -> None:
    registry.add(
        Section("email_preferences", ("email_preferences",), _email_preferences),
        Section("email_suppression", ("suppressions",), _suppression),
        Section("inbox_messages", ("inbox_messages",), _inbox_messages),
        Section("deliveries", ("deliveries",), _deliveries),
        Section("email_clicks", ("email_clicks",), _email_clicks),
        Section("campaign_sends", ("campaign_sends",), _campaign_sends),
        Section("journeys", ("enrolments",), _journeys),
    )
    registry.not_exported("marketing_campaigns", "campaigns marketers made: staff work; the "
                                                 "user column names the staff member")
