"""Results of campaigns and journeys: reach, engagement, conversions and lift.

Both hold a share of families out (`journeys.holdouts`) and have a goal (`journeys.goals`):

* a campaign's people are its `CampaignSend` rows (the life-moment campaigns' and the
  marketers' alike); `campaigns.measure_conversions` marks their conversions;
* a journey's people are its enrolments that entered it (passed its entry rules in one of
  its stages: `Enrolment.entered_at`); `measure_journeys` marks an entry converted when any
  caregiver of the child reached the goal within the journey's goal window.

The lift is conversion(reached) − conversion(holdout) with its 95 % interval from
`recommender.online.ctr_lift` (the interval the recommender's analyst page uses), families as
the units: a family's people share their side of the holdout and their conversions move
together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from diary.models import Child, Membership
from journeys import goals
from journeys.models import (
    CampaignSend,
    Delivery,
    EmailClick,
    Enrolment,
    InboxMessage,
    Journey,
)
from recommender.online import Lift, ctr_lift


@dataclass(frozen=True)
class Results:
    """How a campaign (or a journey) did: people reached and held out, what was delivered,
    opened (inbox messages read; email opens are not tracked) and clicked (people who
    followed a link in one of its emails), conversions in each group, and the lift with its
    95 % interval (None without both groups)."""

    sent: int
    held_out: int
    delivered: int
    opened: int
    clicked: int
    converted: int
    holdout_converted: int
    lift: Lift | None

    @property
    def rate(self) -> float | None:
        return self.converted / self.sent if self.sent else None

    @property
    def holdout_rate(self) -> float | None:
        return self.holdout_converted / self.held_out if self.held_out else None


def lift_of(units: list[tuple[bool, int, int]]) -> Lift | None:
    """Lift from (held out, conversions, people) per family; None without both groups."""
    treated = [(c, n) for holdout, c, n in units if not holdout and n]
    control = [(c, n) for holdout, c, n in units if holdout and n]
    if not treated or not control:
        return None
    return ctr_lift(treated, control)


def _results(units: list[tuple[bool, int, int]], counts: tuple[int, int, int]) -> Results:
    delivered, opened, clicked = counts
    return Results(
        sent=sum(n for h, _, n in units if not h), held_out=sum(n for h, _, n in units if h),
        delivered=delivered, opened=opened, clicked=clicked,
        converted=sum(c for h, c, _ in units if not h),
        holdout_converted=sum(c for h, c, _ in units if h), lift=lift_of(units))


def delivery_counts(session: Session, *where: Any) -> tuple[int, int, int]:
    """(delivered, opened, clicked) of the ledger rows matching `where`: rows sent, inbox
    messages read, and people who clicked a link in one of the emails."""
    delivered = session.scalar(select(func.count()).select_from(Delivery).where(
        *where, Delivery.status == "sent")) or 0
    opened = session.scalar(select(func.count()).select_from(InboxMessage).join(
        Delivery, Delivery.id == InboxMessage.delivery_id).where(
        *where, InboxMessage.read_at.is_not(None))) or 0
    clicked = session.scalar(select(func.count(func.distinct(EmailClick.user_id))).join(
        Delivery, Delivery.id == EmailClick.delivery_id).where(*where)) or 0
    return delivered, opened, clicked


def campaign_results(session: Session, key: str) -> Results:
    """The campaign named `key` ("m12", or a life-moment campaign's name). A person's unit is
    their first family (the holdout's unit), or themself when they are in none."""
    first_family = (select(Membership.user_id, func.min(Membership.family_id).label("family"))
                    .group_by(Membership.user_id).subquery())
    unit = func.coalesce(first_family.c.family, -CampaignSend.user_id)
    converted = func.sum(case((CampaignSend.converted_at.is_not(None), 1), else_=0))
    rows = session.execute(
        select(CampaignSend.holdout, unit, converted, func.count())
        .outerjoin(first_family, first_family.c.user_id == CampaignSend.user_id)
        .where(CampaignSend.campaign == key).group_by(CampaignSend.holdout, unit)).all()
    units = [(bool(h), int(c or 0), int(n)) for h, _, c, n in rows]
    return _results(units, delivery_counts(session, Delivery.item_key == f"campaign:{key}"))


def journey_results(session: Session, journey: Journey) -> Results:
    """The journey's entries (children who passed its entry rules), by family."""
    converted = func.sum(case((Enrolment.converted_at.is_not(None), 1), else_=0))
    rows = session.execute(
        select(Enrolment.holdout, Child.family_id, converted, func.count())
        .join(Child, Child.id == Enrolment.child_id)
        .where(Enrolment.journey_id == journey.id, Enrolment.entered_at.is_not(None))
        .group_by(Enrolment.holdout, Child.family_id)).all()
    units = [(bool(h), int(c or 0), int(n)) for h, _, c, n in rows]
    return _results(units, delivery_counts(session, Delivery.journey_id == journey.id))


def measure_journeys(session: Session, now: datetime) -> int:
    """Set `converted_at` on journey entries (held out or not) whose goal any caregiver of
    the child reached within the journey's goal window."""
    horizon = now - timedelta(days=goals.HORIZON_DAYS)
    updates: list[dict[str, Any]] = []
    for goal in goals.GOALS:
        subjects = (select(Enrolment.id, Enrolment.entered_at.label("start"),
                           Journey.goal_days.label("days"),
                           Membership.user_id.label("user_id"))
                    .join(Journey, Journey.id == Enrolment.journey_id)
                    .join(Child, Child.id == Enrolment.child_id)
                    .join(Membership, Membership.family_id == Child.family_id)
                    .where(Journey.goal == goal, Enrolment.entered_at.is_not(None),
                           Enrolment.entered_at >= horizon, Enrolment.converted_at.is_(None)))
        updates.extend({"id": enrolment_id, "converted_at": at} for enrolment_id, at in
                       goals.first_evidence(session, subjects, goal, now).items())
    if updates:
        session.execute(update(Enrolment), updates)
    return len(updates)
