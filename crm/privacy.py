"""What the CRM keeps about a person, in their data export (see `diary.privacy`).

- `customer_score`: the nightly scores (RFM, tier, group, P(alive), CLV): profiling about
  them, so they see it as staff do.

Saved segments are staff work (their user columns name the staff member who saved one,
never a customer): declared not personal.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.models import CustomerScore
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict

SCORE_FIELDS = ("computed_at", "recency_days", "frequency", "monetary_minor", "r_score",
                "f_score", "m_score", "tier", "value_group", "expected_purchases_90d",
                "p_alive", "clv_minor")


def _score(session: Session, scope: ExportScope) -> dict[str, Any] | None:
    row = session.get(CustomerScore, scope.user.id)
    return None if row is None else row_dict(row, SCORE_FIELDS)


def register(registry: ExportRegistry) -> None:
    registry.add(Section("customer_score", ("customer_scores",), _score))
    registry.not_exported("segments", "saved segments: staff work; the user columns name the "
                                      "staff member who saved one")
