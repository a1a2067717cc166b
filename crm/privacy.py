"""What the crm package adds to a person's data export (see `diary.privacy`).

A customer's own nightly scores (RFM, value tier and group, CLV and P(alive)) are data
about them and are exported. Saved segments are staff work: their user columns name the
staff member who saved one, never a customer, so they are declared not personal.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm.models import CustomerScore
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict


def _scores(session: Session, scope: ExportScope) -> dict[str, Any] | None:
    score = session.get(CustomerScore, scope.user.id)
    return None if score is None else row_dict(score, (
        "computed_at", "recency_days", "frequency", "monetary_minor", "r_score", "f_score",
        "m_score", "tier", "value_group", "expected_purchases_90d", "p_alive", "clv_minor"))


def register(registry: ExportRegistry) -> None:
    registry.add(Section("customer_scores", ("customer_scores",), _scores))
    registry.not_exported("segments", "saved segments: staff work; the user columns name the "
                                      "staff member who saved one")
