"""Due lists: customers whose child enters a new stage or a new nappy size soon, and what
staff did about it.

**Stage** (`content.stages`): the child's next stage change (`stages.next_change`) on one of
the next `days` days (local to the family), and the stage it brings.

**Nappy size**: the ladder comes from the live products' nappy sizes (`content.sizes`;
per code, the widest weight range any product gives). A child is in the smallest size whose
upper weight holds them, so they move up when their weight passes that size's `max_kg`.
Their weight on a coming day is projected from the latest weight logged (or the birth
weight) along the WHO weight-for-age curve of the same z-score (a child keeps to their
centile), at the age the growth charts use (corrected for babies born early); with the sex
unknown, the girls' and boys' projections are averaged. The first day within `days` whose
projected size is larger than today's is the due date.

The list is worked out each time from the children's dates and weights; the follow-up
status (open, contacted, converted, declined) is stored per (customer, child, kind, due
date) in `crm_due_follow_ups` once staff set one. Customers are the family's owners and
editors who are parents (not staff) with an active account.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clock import today_in
from content import stages
from content.models import Product
from content.sizes import Size, from_raw
from content.vocabulary import SIZE_LADDERS
from crm.models import DueFollowUp
from crm.vocabulary import DUE_KINDS, FOLLOW_UP_STATUSES
from diary import growth, growth_report
from diary.age import local_date
from diary.errors import N_, NotFound, ValidationError
from diary.models import Child, Entry, Family, Measurement, Membership, User

WINDOW_DAYS = 14
CUSTOMER_ROLES = ("owner", "editor")


@dataclass(frozen=True)
class Band:
    code: str
    min_kg: float
    max_kg: float


@dataclass(frozen=True)
class Due:
    user_id: int
    member_no: str
    name: str
    child_id: int
    child_name: str
    kind: str  # "stage" | "nappy"
    due_on: date
    current: str  # stage key or size code now ("" when none)
    detail: str  # the new stage key or size code
    status: str = "open"


# --- the nappy ladder and the projection -----------------------------------------------------

def nappy_ladder(session: Session, now: datetime) -> list[Band]:
    """The nappy sizes on sale, smallest first, each with the widest range given for it."""
    widest: dict[str, tuple[float, float]] = {}
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        size = _size(product.size)
        if size is None or size.system != "nappy" or size.min_kg is None \
                or size.max_kg is None or size.rank < 0 or not product.is_live(now):
            continue
        low, high = widest.get(size.code, (size.min_kg, size.max_kg))
        widest[size.code] = (min(low, size.min_kg), max(high, size.max_kg))
    order = SIZE_LADDERS["nappy"]
    return [Band(code, *widest[code]) for code in order if code in widest]


def _size(raw: object) -> Size | None:
    try:
        return from_raw(raw)
    except ValidationError:
        return None


def size_index(ladder: list[Band], weight_kg: float) -> int | None:
    """The smallest size whose upper weight holds the child; None when above them all."""
    for index, band in enumerate(ladder):
        if weight_kg <= band.max_kg:
            return index
    return None


def projected_weight(child: Child, weighed_on: date, weight_kg: float, on: date
                     ) -> float | None:
    """The weight on `on` at the same weight-for-age z-score as (weighed_on, weight_kg);
    None where the growth standard does not reach (before term, after five years)."""
    then, later = growth_report.chart_age(child, weighed_on), growth_report.chart_age(child, on)
    if then is None or later is None:
        return None
    sexes = (child.sex,) if child.sex in growth.SEXES else growth.SEXES
    values = []
    for sex in sexes:
        try:
            z = growth.zscore("wfa", sex, then[0], weight_kg)
            values.append(growth.value_at("wfa", sex, later[0], z))
        except ValidationError:
            return None
    return sum(values) / len(values)


def next_size(child: Child, ladder: list[Band], weighed_on: date, weight_kg: float,
              today: date, days: int = WINDOW_DAYS) -> tuple[date, str, str] | None:
    """(due date, size now, next size) when the child moves up within `days`, else None."""
    if not ladder or child.birth_date is None:
        return None
    now_weight = projected_weight(child, weighed_on, weight_kg, today)
    if now_weight is None:
        return None
    current = size_index(ladder, now_weight)
    if current is None:
        return None
    for ahead in range(1, days + 1):
        on = today + timedelta(days=ahead)
        weight = projected_weight(child, weighed_on, weight_kg, on)
        if weight is None:
            return None
        index = size_index(ladder, weight)
        if index is None or index > current:
            if index is None:
                return None  # past the largest size: nothing to offer
            return on, ladder[current].code, ladder[index].code
    return None


def next_stage(child: Child, today: date, days: int = WINDOW_DAYS
               ) -> tuple[date, str, str] | None:
    """(due date, stage now, next stage) when the child's stage changes within `days`."""
    change = stages.next_change(child, today)
    if change is None or change > today + timedelta(days=days):
        return None
    new = stages.stage_of(child, change)
    if new is None:
        return None
    now = stages.stage_of(child, today)
    return change, now.key if now else "", new.key


# --- the list --------------------------------------------------------------------------------

def _latest_weights(session: Session, child_ids: list[int]) -> dict[int, tuple[datetime,
                                                                             float]]:
    latest: dict[int, tuple[datetime, float]] = {}
    for chunk in _chunks(child_ids, 500):
        for child_id, at, weight in session.execute(
                select(Entry.child_id, Entry.occurred_at, Measurement.weight_kg)
                .join(Measurement, Measurement.entry_id == Entry.id)
                .where(Entry.child_id.in_(chunk), Entry.kind == "measurement",
                       Measurement.weight_kg.is_not(None))
                .order_by(Entry.child_id, Entry.occurred_at.desc(), Entry.id.desc())):
            if weight is not None:
                latest.setdefault(child_id, (at, weight))
    return latest


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _customers(session: Session, family_ids: list[int]) -> dict[int, list[User]]:
    found: dict[int, list[User]] = {}
    for chunk in _chunks(family_ids, 500):
        for family_id, user in session.execute(
                select(Membership.family_id, User).join(User, User.id == Membership.user_id)
                .where(Membership.family_id.in_(chunk), Membership.role.in_(CUSTOMER_ROLES),
                       User.staff_role.is_(None), User.is_active.is_(True))
                .order_by(Membership.family_id, User.id)):
            found.setdefault(family_id, []).append(user)
    return found


def _dues_of(child: Child, tz: str, now: datetime, ladder: list[Band],
             weights: dict[int, tuple[datetime, float]], days: int
             ) -> list[tuple[str, date, str, str]]:
    today = today_in(tz, now)
    found = []
    stage = next_stage(child, today, days)
    if stage is not None:
        found.append(("stage", *stage))
    if child.birth_date is not None:
        if child.id in weights:
            at, weight = weights[child.id]
            weighed_on, kg = local_date(at, tz), weight
        elif child.birth_weight_kg:
            weighed_on, kg = child.birth_date, child.birth_weight_kg
        else:
            weighed_on, kg = None, None
        if weighed_on is not None and kg is not None and weighed_on <= today:
            size = next_size(child, ladder, weighed_on, kg, today, days)
            if size is not None:
                found.append(("nappy", *size))
    return found


def due_list(session: Session, now: datetime, days: int = WINDOW_DAYS,
             kind: str | None = None, child_ids: list[int] | None = None) -> list[Due]:
    """Everyone due within `days` of their family's today, by due date (then kind, child,
    customer), with the stored follow-up status."""
    if kind is not None and kind not in DUE_KINDS:
        raise ValidationError(N_("Unknown kind of due date."), "kind")
    query = (select(Child).join(Family, Family.id == Child.family_id)
             .options(selectinload(Child.family)).order_by(Child.id))
    if child_ids is not None:
        query = query.where(Child.id.in_(child_ids))
    children = list(session.scalars(query))
    ladder = nappy_ladder(session, now) if kind in (None, "nappy") else []
    weights = _latest_weights(session, [c.id for c in children]) if ladder else {}
    customers = _customers(session, sorted({c.family_id for c in children}))
    found: list[Due] = []
    for child in children:
        people = customers.get(child.family_id)
        if not people:
            continue
        for due_kind, due_on, current, detail in _dues_of(child, child.family.timezone, now,
                                                          ladder, weights, days):
            if kind is not None and due_kind != kind:
                continue
            found.extend(Due(user_id=u.id, member_no=u.member_no, name=u.display_name,
                             child_id=child.id, child_name=child.name, kind=due_kind,
                             due_on=due_on, current=current, detail=detail) for u in people)
    statuses = _statuses(session, found)
    found = [Due(**{**d.__dict__, "status": statuses.get(_key(d), "open")}) for d in found]
    found.sort(key=lambda d: (d.due_on, DUE_KINDS.index(d.kind), d.child_name, d.child_id,
                              d.user_id))
    return found


def _key(d: Due | DueFollowUp) -> tuple[int, int, str, date]:
    return (d.user_id, d.child_id, d.kind, d.due_on)


def _statuses(session: Session, dues: list[Due]) -> dict[tuple[int, int, str, date], str]:
    if not dues:
        return {}
    first, last = min(d.due_on for d in dues), max(d.due_on for d in dues)
    rows = session.scalars(select(DueFollowUp).where(
        DueFollowUp.child_id.in_({d.child_id for d in dues}),
        DueFollowUp.due_on >= first, DueFollowUp.due_on <= last))
    return {_key(r): r.status for r in rows}


def set_status(session: Session, staff: User, user_id: int, child_id: int, kind: str,
               due_on: date, status: str, now: datetime) -> DueFollowUp:
    """Record what staff did about one entry of the due list. The entry must be on the list
    now (the same customer, child, kind and date), so nothing can be recorded about a
    customer or a date the list does not show."""
    if not staff.is_staff:
        raise ValidationError(N_("Only staff record follow-ups."))
    if status not in FOLLOW_UP_STATUSES:
        raise ValidationError(N_("Choose a follow-up status."), "status")
    if kind not in DUE_KINDS:
        raise ValidationError(N_("Unknown kind of due date."), "kind")
    match = [d for d in due_list(session, now, kind=kind, child_ids=[child_id])
             if d.user_id == user_id and d.due_on == due_on]
    if not match:
        raise NotFound(N_("That customer is not on the due list for that date."))
    row = session.scalar(select(DueFollowUp).where(
        DueFollowUp.user_id == user_id, DueFollowUp.child_id == child_id,
        DueFollowUp.kind == kind, DueFollowUp.due_on == due_on))
    if row is None:
        row = DueFollowUp(user_id=user_id, child_id=child_id, kind=kind, due_on=due_on,
                          detail=match[0].detail)
        session.add(row)
    row.status, row.updated_at, row.updated_by_id = status, now, staff.id
    session.flush()
    return row
