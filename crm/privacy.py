"""What the CRM adds to a person's data export (see `diary.privacy`).

- their contact history recorded by staff (calls and notes: when, department, channel,
  direction, outcome, subject and notes; not which staff member wrote them);
- their nightly scores (RFM, value tier, CLV, P(alive)): profiling a person is told to them.

Merge records are the staff's record of joining two accounts, like the access log: kept
with member numbers only and not exported. Deleting an account deletes its contact events
and scores (foreign keys).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import ContactEvent, CustomerScore
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict

CONTACT_FIELDS = ("occurred_at", "department", "channel", "direction", "outcome", "subject",
                  "body")
SCORE_FIELDS = ("computed_at", "recency_days", "frequency", "monetary_minor", "r_score",
                "f_score", "m_score", "tier", "value_group", "expected_purchases_90d",
                "p_alive", "clv_minor")


def _contacts(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ContactEvent).where(ContactEvent.user_id == scope.user.id)
                           .order_by(ContactEvent.occurred_at, ContactEvent.id))
    return [row_dict(r, CONTACT_FIELDS) for r in rows]


def _scores(session: Session, scope: ExportScope) -> dict[str, Any] | None:
    score = session.get(CustomerScore, scope.user.id)
    return row_dict(score, SCORE_FIELDS) if score is not None else None


def register(registry: ExportRegistry) -> None:
    registry.add(Section("contact_history", ("contact_events",), _contacts),
                 Section("customer_scores", ("customer_scores",), _scores))
    registry.not_exported("customer_merges", "the staff record of merging two accounts of one "
                          "customer (who merged them, when, what moved), kept with member "
                          "numbers like the staff access log")
