"""What the analysts' Value page reads from the nightly `customer_scores` (`crm.scores`):
tier and group counts with their totals, the R × F grid of counts, and the top customers by
CLV. A few aggregate queries; nothing is fitted here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm.models import CustomerScore
from crm.rfm import GROUPS, TIERS
from diary.models import User

TOP = 20


@dataclass(frozen=True)
class Slice:
    code: str
    customers: int
    monetary_minor: int
    clv_minor: int


@dataclass(frozen=True)
class TopCustomer:
    user: User
    tier: str
    value_group: str
    clv_minor: int
    p_alive: float
    frequency: int
    monetary_minor: int
    recency_days: int | None


@dataclass
class Overview:
    computed_at: datetime | None = None
    customers: int = 0
    never_bought: int = 0
    tiers: list[Slice] = field(default_factory=list)
    groups: list[Slice] = field(default_factory=list)
    #: grid[r − 1][f − 1]: customers with recency score r and frequency score f
    grid: list[list[int]] = field(default_factory=lambda: [[0] * 5 for _ in range(5)])
    top: list[TopCustomer] = field(default_factory=list)

    @property
    def grid_max(self) -> int:
        return max((max(row) for row in self.grid), default=0)


def _slices(session: Session, column: InstrumentedAttribute[str], codes: tuple[str, ...]
            ) -> list[Slice]:
    rows = {code: (n, money, value) for code, n, money, value in session.execute(
        select(column, func.count(), func.coalesce(func.sum(CustomerScore.monetary_minor), 0),
               func.coalesce(func.sum(CustomerScore.clv_minor), 0))
        .group_by(column))}
    return [Slice(code, int(rows.get(code, (0, 0, 0))[0]), int(rows.get(code, (0, 0, 0))[1]),
                  int(rows.get(code, (0, 0, 0))[2])) for code in codes]


def overview(session: Session, top: int = TOP) -> Overview:
    found = Overview()
    found.computed_at = session.scalar(select(func.max(CustomerScore.computed_at)))
    found.tiers = _slices(session, CustomerScore.tier, TIERS)
    found.groups = _slices(session, CustomerScore.value_group, GROUPS)
    found.customers = sum(s.customers for s in found.tiers)
    for r, f, n in session.execute(
            select(CustomerScore.r_score, CustomerScore.f_score, func.count())
            .group_by(CustomerScore.r_score, CustomerScore.f_score)):
        if 1 <= r <= 5 and 1 <= f <= 5:
            found.grid[r - 1][f - 1] = int(n)
        else:
            found.never_bought += int(n)
    found.top = [TopCustomer(user, s.tier, s.value_group, s.clv_minor, s.p_alive,
                             s.frequency, s.monetary_minor, s.recency_days)
                 for s, user in session.execute(
                     select(CustomerScore, User).join(User, User.id == CustomerScore.user_id)
                     .where(CustomerScore.clv_minor > 0)
                     .order_by(CustomerScore.clv_minor.desc(), CustomerScore.user_id)
                     .limit(top))]
    return found
