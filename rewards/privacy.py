"""What the rewards package keeps about a person, in their data export (see `diary.privacy`).

- `reward_points`: every change of their points (when, what for, how many; the ledger's
  references are our ids, e.g. of a diary entry) and the balance;
- `reward_redemptions`: the samples they asked for, the status and the shipping address
  they gave, until it is blanked 30 days after sending (not which staff member handled it).

Both go with the account: their foreign keys cascade. The catalogue of samples is ours.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from diary.privacy import ExportRegistry, ExportScope, Section, iso, row_dict
from rewards.models import PointsBalance, PointsEntry, Redemption

POINT_FIELDS = ("created_at", "rule", "points", "ref", "local_day")
REDEMPTION_FIELDS = ("created_at", "cost", "status", "recipient", "phone", "province", "city",
                     "address", "postcode", "sent_at", "cancelled_at", "address_erased_at")


def _points(session: Session, scope: ExportScope) -> dict[str, Any]:
    rows = session.scalars(select(PointsEntry).where(PointsEntry.user_id == scope.user.id)
                           .order_by(PointsEntry.created_at, PointsEntry.id))
    balance = session.get(PointsBalance, scope.user.id)
    return {"balance": balance.balance if balance is not None else 0,
            "ledger": [row_dict(r, POINT_FIELDS) for r in rows]}


def _redemptions(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(Redemption).options(joinedload(Redemption.item))
                           .where(Redemption.user_id == scope.user.id)
                           .order_by(Redemption.created_at, Redemption.id))
    return [{**row_dict(r, REDEMPTION_FIELDS), "sample": r.item.name_en,
             "sample_zh": r.item.name_zh, "created_at": iso(r.created_at)} for r in rows]


def register(registry: ExportRegistry) -> None:
    registry.add(Section("reward_points", ("reward_points", "reward_balances"), _points),
                 Section("reward_redemptions", ("reward_redemptions",), _redemptions))
