"""What the CRM keeps about a person, in their data export (see `diary.privacy`).

- `contact_history`: their contacts recorded by staff (calls and notes: when, department,
  channel, direction, outcome, subject and notes; not which staff member wrote them);
- `customer_score`: the nightly scores (RFM, tier, group, P(alive), CLV): profiling about
  them, so they see it as staff do;
- `due_follow_ups`: what staff recorded about contacting them when their child entered a new
  stage or nappy size (the status and when; not which staff member).

All go with the account: their foreign keys cascade. Saved segments are staff work (their
user columns name the staff member who saved one, never a customer) and merge records are
the staff's record of joining two accounts, kept with member numbers like the access log:
both declared not personal.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import ContactEvent, CustomerScore, DueFollowUp
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict

CONTACT_FIELDS = ("occurred_at", "department", "channel", "direction", "outcome", "subject",
                  "body")
SCORE_FIELDS = ("computed_at", "recency_days", "frequency", "monetary_minor", "r_score",
                "f_score", "m_score", "tier", "value_group", "expected_purchases_90d",
                "p_alive", "clv_minor")
FOLLOW_UP_FIELDS = ("child_id", "kind", "due_on", "detail", "status", "updated_at")


def _contacts(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ContactEvent).where(ContactEvent.user_id == scope.user.id)
                           .order_by(ContactEvent.occurred_at, ContactEvent.id))
    return [row_dict(r, CONTACT_FIELDS) for r in rows]


def _score(session: Session, scope: ExportScope) -> dict[str, Any] | None:
    row = session.get(CustomerScore, scope.user.id)
    return None if row is None else row_dict(row, SCORE_FIELDS)


def _follow_ups(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(DueFollowUp).where(DueFollowUp.user_id == scope.user.id)
                           .order_by(DueFollowUp.due_on, DueFollowUp.id))
    return [row_dict(r, FOLLOW_UP_FIELDS) for r in rows]


def register(registry: ExportRegistry) -> None:
    registry.add(Section("contact_history", ("contact_events",), _contacts),
                 Section("customer_score", ("customer_scores",), _score),
                 Section("due_follow_ups", ("crm_due_follow_ups",), _follow_ups))
    registry.not_exported("segments", "saved segments: staff work; the user columns name the "
                                      "staff member who saved one")
    registry.not_exported("customer_merges", "the staff record of merging two accounts of one "
                          "customer (who merged them, when, what moved), kept with member "
                          "numbers like the staff access log")
    registry.not_exported("crm_saved_reports",
                          "an analyst's saved pivot definitions (names, dimensions, filters): "
                          "staff work, about no customer")
    registry.not_exported("crm_report_mailings",
                          "which analyst was emailed which saved report in which week: the "
                          "weekly email's exactly-once record, about no customer")
