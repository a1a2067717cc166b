"""What the CRM keeps about a person, in their data export.

The nightly scores (`crm.models.CustomerScore`: RFM, value tier and group, the CLV model's
expectations) are a profile of the person, so the export shows them as they stand; they go
with the account by their foreign key (and are computed again the next night for everyone
else).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import CustomerScore
from diary.privacy import ExportRegistry, ExportScope, Section, row_dict

SCORE_FIELDS = ("computed_at", "recency_days", "frequency", "monetary_minor", "r_score",
                "f_score", "m_score", "tier", "value_group", "expected_purchases_90d",
                "p_alive", "clv_minor")


def _scores(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    row = session.scalar(select(CustomerScore).where(CustomerScore.user_id == scope.user.id))
    return [row_dict(row, SCORE_FIELDS)] if row is not None else []


def register(registry: ExportRegistry) -> None:
    registry.add(Section("customer_scores", ("customer_scores",), _scores))
