"""Goals: what counts as a conversion after a campaign send or a journey entry, and the
first evidence of it.

* "visit": the person opened the site after the start (`User.last_seen_at`, which keeps only
  the latest visit and moves at most hourly: measure often; a visit inside the window
  followed by another after it, both between two measurements, is missed — equally for the
  group that got the message and the holdout).
* "product_click": the first click on a product after the start, on the site or in an
  email (an `Interaction` click on a product item, or an `EmailClick` on a "product:" link).
* "purchase": the first purchase the shop reported after the start (`Interaction`
  "purchase").

`first_evidence` takes any "subjects" select with the columns (id, start, days, user_id) —
one row per person who may convert for the subject (a send has one person, a journey
entry every caregiver of the child) — and returns, per subject id, the earliest evidence
within its window, up to `now`. Windows are checked in Python (no date arithmetic in SQL).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from content.models import ContentItem
from diary.models import User
from journeys.models import EmailClick
from recommender.models import Interaction, Kind

GOALS = ("visit", "product_click", "purchase")
GOAL_DAYS = (1, 60)
#: How long after its window a subject is still looked at (catches up after missed runs
#: without rescanning every old row for ever).
SETTLE_GRACE_DAYS = 30
HORIZON_DAYS = GOAL_DAYS[1] + SETTLE_GRACE_DAYS


def _evidence_selects(subjects: Any, goal: str, now: datetime) -> list[Select[Any]]:
    s = subjects
    keys = (s.c.id, s.c.start, s.c.days)
    if goal == "visit":
        return [select(*keys, User.last_seen_at.label("evidence"))
                .join(User, User.id == s.c.user_id)
                .where(User.last_seen_at > s.c.start, User.last_seen_at <= now)]
    if goal == "purchase":
        return [select(*keys, func.min(Interaction.occurred_at).label("evidence"))
                .join(Interaction, and_(Interaction.user_id == s.c.user_id,
                                        Interaction.kind == Kind.PURCHASE.value,
                                        Interaction.occurred_at > s.c.start,
                                        Interaction.occurred_at <= now))
                .group_by(*keys)]
    if goal == "product_click":
        products = select(ContentItem.id).where(ContentItem.kind == "product")
        return [
            select(*keys, func.min(EmailClick.clicked_at).label("evidence"))
            .join(EmailClick, and_(EmailClick.user_id == s.c.user_id,
                                   EmailClick.item_key.like("product:%"),
                                   EmailClick.clicked_at > s.c.start,
                                   EmailClick.clicked_at <= now))
            .group_by(*keys),
            select(*keys, func.min(Interaction.occurred_at).label("evidence"))
            .join(Interaction, and_(Interaction.user_id == s.c.user_id,
                                    Interaction.kind == Kind.CLICK.value,
                                    Interaction.item_id.in_(products),
                                    Interaction.occurred_at > s.c.start,
                                    Interaction.occurred_at <= now))
            .group_by(*keys)]
    raise ValueError(f"unknown goal {goal!r}")


def first_evidence(session: Session, subjects: Select[Any, Any, Any, Any], goal: str,
                   now: datetime) -> dict[int, datetime]:
    """Subject id → the earliest evidence of `goal` inside its window (start, start + days]."""
    found: dict[int, datetime] = {}
    table = subjects.subquery()
    for stmt in _evidence_selects(table, goal, now):
        for row in session.execute(stmt):
            if row.evidence is None or row.evidence > row.start + timedelta(days=row.days):
                continue
            if row.id not in found or row.evidence < found[row.id]:
                found[row.id] = row.evidence
    return found
