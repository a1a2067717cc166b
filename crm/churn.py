"""The churn-risk list: customers the nightly scores give a low chance of still being a
customer (BG/NBD's P(alive), `crm.models.CustomerScore`) and/or who have not been seen for
a while, with what they are worth; the page's button sends them "we miss you"
(`journeys.campaigns.win_back`).

A customer's last activity is the latest of their last visit (`User.last_seen_at`), their
latest row in the interaction log and their sign-up. Customers without scores yet (new since
last night) have no P(alive) and are found by inactivity only.

    churn_list(session, now, criteria, page, per_page) -> ChurnPage
    churn_ids(session, now, criteria) -> list[int]      (everyone on the list, every page)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from crm.models import CustomerScore
from diary.models import User
from recommender.models import Interaction

SORTS = ("p_alive", "inactive", "clv")  # lowest P(alive) / longest away / highest CLV first
MATCHES = ("any", "all")
DEFAULT_P_ALIVE = 0.5
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Criteria:
    max_p_alive: float = DEFAULT_P_ALIVE  # P(alive) below this…
    inactive_days: int = DEFAULT_DAYS  # …or/and no activity for at least this many days
    match: str = "any"  # "any": either condition, "all": both
    sort: str = "p_alive"

    def __post_init__(self) -> None:
        if not 0 <= self.max_p_alive <= 1 or not 0 <= self.inactive_days <= 3650 \
                or self.match not in MATCHES or self.sort not in SORTS:
            raise ValueError(f"impossible churn criteria {self!r}")


@dataclass(frozen=True)
class AtRisk:
    user_id: int
    name: str
    member_no: str
    p_alive: float | None
    tier: str | None
    clv_minor: int | None
    last_active: datetime
    inactive_days: int


@dataclass(frozen=True)
class ChurnPage:
    rows: list[AtRisk]
    total: int


def _latest(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)


def _query(now: datetime, criteria: Criteria, *columns: Any) -> tuple[Select, Any]:
    acted = select(Interaction.user_id, func.max(Interaction.occurred_at).label("at")) \
        .where(Interaction.user_id.is_not(None), Interaction.occurred_at <= now) \
        .group_by(Interaction.user_id).subquery()
    last = _latest(func.coalesce(User.last_seen_at, User.created_at),
                   func.coalesce(acted.c.at, User.created_at))
    # P(alive) is the purchase model's: it says nothing of people who never bought (the
    # nightly scores give them 0), who are at risk only by being away.
    low = and_(CustomerScore.frequency > 0, CustomerScore.p_alive < criteria.max_p_alive)
    away = last <= now - timedelta(days=criteria.inactive_days)
    stmt = select(*columns, last.label("last")) \
        .outerjoin(CustomerScore, CustomerScore.user_id == User.id) \
        .outerjoin(acted, acted.c.user_id == User.id) \
        .where(User.staff_role.is_(None), User.is_active.is_(True), User.created_at <= now,
               or_(low, away) if criteria.match == "any" else and_(low, away))
    return stmt, last


def churn_list(session: Session, now: datetime, criteria: Criteria = Criteria(),
               page: int = 1, per_page: int = 50) -> ChurnPage:
    stmt, last = _query(now, criteria, User.id, User.display_name, User.member_no,
                        CustomerScore.p_alive, CustomerScore.tier, CustomerScore.clv_minor)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = {"p_alive": (CustomerScore.p_alive.is_(None), CustomerScore.p_alive.asc(), last),
             "inactive": (last.asc(),),
             "clv": (CustomerScore.clv_minor.is_(None), CustomerScore.clv_minor.desc())
             }[criteria.sort]
    found = session.execute(stmt.order_by(*order, User.id)
                            .limit(per_page).offset((max(page, 1) - 1) * per_page))
    rows = [AtRisk(r.id, r.display_name, r.member_no, r.p_alive, r.tier, r.clv_minor,
                   r.last, max(0, (now - r.last).days)) for r in found]
    return ChurnPage(rows, total)


def churn_ids(session: Session, now: datetime, criteria: Criteria = Criteria()) -> list[int]:
    stmt, _ = _query(now, criteria, User.id)
    return list(session.scalars(stmt.order_by(User.id)))
