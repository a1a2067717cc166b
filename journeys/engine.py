"""The stage engine: enrol children, compute their journey stage, push the stage's content.

A child's stage is a pure function of the child and a date (`journey_stage`), so it can be
recomputed at any time and never drifts. `tick_batch` handles one batch of enrolments in the
caller's transaction; pushes go through the ledger (`ledger.push`), so running it twice, or
in two schedulers at once, pushes nothing twice.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from content import library
from content.models import KINDS as CONTENT_KINDS
from content.models import ContentItem
from content.stages import ChildDates, Stage, next_change, stage_of, unit_order
from db import table_of
from diary import age as agemath
from diary.errors import DiaryError
from diary.models import Child, Family, Membership, User
from journeys import ledger
from journeys.audiences import Audience
from journeys.holdouts import in_holdout
from journeys.models import Enrolment, Journey, JourneyStage


def default_journey(session: Session) -> Journey | None:
    return session.scalar(select(Journey).where(Journey.is_default.is_(True))
                          .options(selectinload(Journey.stages)))


def enrol(session: Session, child: Child, journey: Journey | None = None) -> Enrolment | None:
    """Put a child on a journey (the default one unless named); idempotent."""
    journey = journey or default_journey(session)
    if journey is None:
        return None
    existing = session.scalar(select(Enrolment).where(Enrolment.journey_id == journey.id,
                                                      Enrolment.child_id == child.id))
    if existing is not None:
        return existing
    enrolment = Enrolment(journey_id=journey.id, child_id=child.id, status="active")
    session.add(enrolment)
    session.flush()
    return enrolment


class EnrolledChild(ChildDates, Protocol):
    """A child as the entry rules see it (a `Child`, or the tick's light row)."""

    @property
    def is_born(self) -> bool: ...


class Recipient(Protocol):
    """A caregiver as the entry rules and pushes see them (a `User`, or a light row)."""

    @property
    def id(self) -> int: ...
    @property
    def interests(self) -> list[str]: ...
    @property
    def region_province(self) -> str | None: ...


def journey_stage(journey: Journey, child: ChildDates, on: date) -> tuple[JourneyStage | None,
                                                                     Stage | None]:
    """(the journey's stage, the content stage) for the child on a date."""
    stage = stage_of(child, on)
    if stage is None:
        return None, None
    for js in journey.stages:
        if js.window_unit == stage.unit and js.window_from <= stage.value <= js.window_to:
            return js, stage
    return None, stage


def is_past_journey(journey: Journey, stage: Stage | None, child: ChildDates, on: date
                    ) -> bool:
    """Exit rule: older than the last stage (or past five years)."""
    if stage is None:
        return child.birth_date is not None and on > child.birth_date
    last = max(journey.stages, key=lambda s: s.position, default=None)
    return last is not None and (unit_order(stage.unit), stage.value) > (
        unit_order(last.window_unit), last.window_to)


def allowed(journey: Journey, child: EnrolledChild, members: Sequence[Recipient]) -> bool:
    """Entry rules: expecting/born only, interests, region. (A segment rule is checked by
    `tick_batch`, which asks the `Audience` about a whole batch at once.)"""
    rule = journey.entry_rule or {}
    if rule.get("stage") == "expecting" and child.is_born:
        return False
    if rule.get("stage") == "born" and not child.is_born:
        return False
    wanted = set(rule.get("interests") or [])
    if wanted and not any(wanted & set(m.interests or []) for m in members):
        return False
    region = rule.get("region")
    return not region or any(m.region_province == region for m in members)


@dataclass
class BatchResult:
    processed: int = 0
    pushed: int = 0
    exited: int = 0
    last_id: int = 0
    done: bool = False


@dataclass
class TickCache:
    """What one tick computes once and reuses: content per stage, stages per set of dates,
    the local date per time zone."""

    now: datetime
    cache: dict[tuple[Any, ...], list[ContentItem]] = field(default_factory=dict)

    stages: dict[tuple[Any, ...], tuple[JourneyStage | None, Stage | None]] = field(
        default_factory=dict)
    changes: dict[tuple[Any, ...], date | None] = field(default_factory=dict)
    days: dict[str, date] = field(default_factory=dict)

    def today(self, tz: str) -> date:
        if tz not in self.days:
            self.days[tz] = agemath.local_date(self.now, tz)
        return self.days[tz]

    @staticmethod
    def _dates(child: ChildDates, on: date) -> tuple[Any, ...]:
        return (child.due_date, child.birth_date, child.gestational_weeks_at_birth,
                child.gestational_days_at_birth, on)

    def stage(self, journey: Journey, child: ChildDates, on: date
              ) -> tuple[JourneyStage | None, Stage | None]:
        """Children born (or due) on the same day share their stage: compute it once."""
        key = (journey.id, *self._dates(child, on))
        if key not in self.stages:
            self.stages[key] = journey_stage(journey, child, on)
        return self.stages[key]

    def next_change(self, child: ChildDates, on: date) -> date | None:
        key = self._dates(child, on)
        if key not in self.changes:
            self.changes[key] = next_change(child, on)
        return self.changes[key]

    def items(self, session: Session, kind: str, stage: Stage, interests: tuple[str, ...],
              limit: int) -> list[ContentItem]:
        key = (kind, stage, interests, limit)
        if key not in self.cache:
            self.cache[key] = library.for_stage(session, CONTENT_KINDS[kind], stage,
                                                list(interests), limit, self.now)
        return self.cache[key]


@dataclass
class _Member:
    id: int
    interests: list[str]
    region_province: str | None


@dataclass
class _Family:
    timezone: str


@dataclass
class _ChildRow:
    """What the tick needs of a child, read as plain rows (ORM objects cost 10x more here)."""

    id: int
    due_date: date | None
    birth_date: date | None
    gestational_weeks_at_birth: int | None
    gestational_days_at_birth: int | None
    family_id: int
    family: _Family
    members: list[_Member] = field(default_factory=list)

    @property
    def is_born(self) -> bool:
        return self.birth_date is not None


_ENROLMENTS = table_of(Enrolment)
_UPDATE = (update(_ENROLMENTS).where(_ENROLMENTS.c.id == bindparam("b_id")).values(
    status=bindparam("b_status"), exit_reason=bindparam("b_exit"),
    stage_key=bindparam("b_stage"), stage_entered_on=bindparam("b_entered"),
    last_tick_at=bindparam("b_tick"), next_check_at=bindparam("b_next"),
    entered_at=bindparam("b_entered_at"), holdout=bindparam("b_holdout")))


def segment_of(journey: Journey) -> int | None:
    """The saved segment a journey's entry rule names (None: no segment rule)."""
    value = (journey.entry_rule or {}).get("segment")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _in_segments(session: Session, journeys: dict[int, Journey], children: dict[int, _ChildRow],
                 enrolments: Sequence[Any], audience: Audience | None, now: datetime
                 ) -> dict[int, set[int]]:
    """For each journey of the batch with a segment rule: which of the batch's caregivers
    are in the segment (one query per journey). Without an `Audience`, or for a segment that
    is gone, nobody is."""
    found: dict[int, set[int]] = {}
    for journey in journeys.values():
        segment_id = segment_of(journey)
        if segment_id is None:
            continue
        found[journey.id] = set()
        people = {m.id for e in enrolments if e.journey_id == journey.id
                  for m in getattr(children.get(e.child_id), "members", [])}
        if audience is None or not people:
            continue
        try:
            members = audience(session, segment_id, now).subquery()
        except DiaryError:  # the segment is gone: the journey waits for a new rule
            continue
        column = next(iter(members.c))
        found[journey.id] = set(session.scalars(select(column).where(column.in_(people))))
    return found


def tick_batch(session: Session, now: datetime, after_id: int = 0, batch_size: int = 500,
               cache: TickCache | None = None, audience: Audience | None = None
               ) -> BatchResult:
    """Advance up to `batch_size` due enrolments with id > after_id and push what is due.

    A journey whose entry rule names a segment reaches only the caregivers `audience` says
    are in it. The first time a child passes the entry rules in one of the journey's stages,
    its enrolment is "entered" (the start of the goal window) and its family lands in or out
    of the journey's holdout for good; held-out enrolments move through the stages like the
    others, but nothing is pushed to them."""
    cache = cache or TickCache(now)
    stmt = (select(Enrolment.id, Enrolment.child_id, Enrolment.journey_id, Enrolment.stage_key,
                   Enrolment.stage_entered_on, Enrolment.last_tick_at, Enrolment.entered_at,
                   Enrolment.holdout).where(
        Enrolment.status == "active", Enrolment.id > after_id,
        or_(Enrolment.next_check_at.is_(None), Enrolment.next_check_at <= now))
        .order_by(Enrolment.id).limit(batch_size))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # a second scheduler takes other rows
    enrolments = session.execute(stmt).all()
    result = BatchResult(last_id=enrolments[-1].id if enrolments else after_id,
                         done=len(enrolments) < batch_size)
    if not enrolments:
        return result
    children = _child_rows(session, [e.child_id for e in enrolments])
    journeys = _journeys(session, {e.journey_id for e in enrolments})
    segments = _in_segments(session, journeys, children, enrolments, audience, now)
    rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for e in enrolments:
        result.processed += 1
        child = children.get(e.child_id)
        journey = journeys.get(e.journey_id)
        if child is None or journey is None or journey.status != "active":
            continue
        change = {"b_id": e.id, "b_status": "active", "b_exit": None, "b_stage": e.stage_key,
                  "b_entered": e.stage_entered_on, "b_tick": e.last_tick_at, "b_next": None,
                  "b_entered_at": e.entered_at, "b_holdout": bool(e.holdout)}
        updates.append(change)
        today = cache.today(child.family.timezone)
        js, stage = cache.stage(journey, child, today)
        if js is None or stage is None:
            if is_past_journey(journey, stage, child, today):
                change["b_status"], change["b_exit"] = "exited", "completed"
                result.exited += 1
            else:  # between the journey's stages (or before week 4): wait for the next one
                change["b_next"] = _local_midnight(
                    cache.next_change(child, today) or today + timedelta(days=7),
                    child.family.timezone)
            continue
        recipients = child.members
        if journey.id in segments:
            recipients = [m for m in recipients if m.id in segments[journey.id]]
            if not recipients:
                continue
        if not allowed(journey, child, recipients):
            continue
        if e.entered_at is None:
            change["b_entered_at"] = now
            change["b_holdout"] = in_holdout(f"j{journey.id}", f"family:{child.family_id}",
                                             "1", journey.holdout_share or 0.0)
        if e.stage_key != js.key:
            change["b_stage"], change["b_entered"] = js.key, today
        change["b_tick"] = now
        entered = change["b_entered"] or today
        if not change["b_holdout"]:
            rows.extend(_due_pushes(session, cache, journey, js, stage, child,
                                    recipients, entered, today))
        change["b_next"] = _next_check(js, entered, today,
                                       cache.next_change(child, today),
                                       child.family.timezone)
    result.pushed = ledger.push(session, rows)
    _write_updates(session, updates)
    return result


_PG_UPDATE = text("""
UPDATE enrolments AS e
SET status = r.b_status, exit_reason = r.b_exit, stage_key = r.b_stage,
    stage_entered_on = r.b_entered, last_tick_at = r.b_tick, next_check_at = r.b_next,
    entered_at = r.b_entered_at, holdout = r.b_holdout
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
    b_id int, b_status text, b_exit text, b_stage text, b_entered date,
    b_tick timestamptz, b_next timestamptz, b_entered_at timestamptz, b_holdout boolean)
WHERE e.id = r.b_id
""")


def _write_updates(session: Session, updates: list[dict[str, Any]]) -> None:
    """The batch's enrolment changes: on PostgreSQL one set-based UPDATE (a 500-statement
    executemany cost the server twice as much), elsewhere one executemany."""
    if not updates:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_PG_UPDATE, {"rows": json.dumps(updates, default=str)})
    else:
        session.execute(_UPDATE, updates)


def _child_rows(session: Session, ids: list[int]) -> dict[int, _ChildRow]:
    children = {}
    for r in session.execute(
            select(Child.id, Child.due_date, Child.birth_date, Child.gestational_weeks_at_birth,
                   Child.gestational_days_at_birth, Child.family_id, Family.timezone)
            .join(Family, Family.id == Child.family_id).where(Child.id.in_(ids))):
        children[r.id] = _ChildRow(r.id, r.due_date, r.birth_date, r.gestational_weeks_at_birth,
                                   r.gestational_days_at_birth, r.family_id, _Family(r.timezone))
    by_family: dict[int, list[_Member]] = {}
    family_ids = {c.family_id for c in children.values()}
    for m in session.execute(
            select(Membership.family_id, User.id, User.interests, User.region_province)
            .join(User, User.id == Membership.user_id)
            .where(Membership.family_id.in_(family_ids), User.is_active.is_(True))
            .order_by(Membership.id)):
        by_family.setdefault(m.family_id, []).append(
            _Member(m.id, list(m.interests or []), m.region_province))
    for child in children.values():
        child.members = by_family.get(child.family_id, [])
    return children


def _next_check(js: JourneyStage, entered: date, today: date, change: date | None,
                tz: str) -> datetime:
    """The next local midnight when a stage change or a delayed step can be due."""
    dates = [entered + timedelta(days=int(step.get("delay_days") or 0))
             for step in js.steps or []]
    dates = [d for d in dates if d > today]
    if change is not None:
        dates.append(change)
    return _local_midnight(min(dates) if dates else today + timedelta(days=30), tz)


@lru_cache(maxsize=4096)
def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def recheck(session: Session, child: Child) -> None:
    """Something about the child changed (born, dates edited): look again at the next tick."""
    session.execute(update(Enrolment).where(Enrolment.child_id == child.id)
                    .values(next_check_at=None))


def recheck_journey(session: Session, journey: Journey) -> None:
    """The journey's stages or steps changed: every enrolment is looked at again."""
    session.execute(update(Enrolment).where(Enrolment.journey_id == journey.id)
                    .values(next_check_at=None))


def _due_pushes(session: Session, cache: TickCache, journey: Journey, js: JourneyStage,
                stage: Stage, child: _ChildRow, members: Sequence[Recipient], entered: date,
                today: date) -> list[dict[str, Any]]:
    rows = []
    for index, step in enumerate(js.steps or []):
        if today < entered + timedelta(days=int(step.get("delay_days") or 0)):
            continue  # a delayed step: due later in the stage
        wanted = step.get("when_interest")
        limit = int(step.get("limit") or 2)
        for kind in step.get("push") or []:
            if wanted:  # a branch: only items written for that interest
                items = [i for i in cache.items(session, kind, stage, (wanted,), limit + 5)
                         if wanted in (i.interests or [])][:limit]
            else:  # the stage's own content, the same for every family at this stage
                items = cache.items(session, kind, stage, (), limit)
            for member in members:
                if wanted and wanted not in (member.interests or []):
                    continue
                for item in items:
                    for channel in step.get("channels") or ["inbox"]:
                        # Occurrence is the journey, not the stage or its version: an item
                        # reaches a person once per journey, however the journey is edited.
                        rows.append(ledger.row(
                            user_id=member.id, child_id=child.id, item=item, channel=channel,
                            occurrence=f"j{journey.id}", journey_id=journey.id,
                            stage_key=js.key, step=index))
    return rows



def _journeys(session: Session, ids: set[int]) -> dict[int, Journey]:
    return {j.id: j for j in session.scalars(select(Journey).where(Journey.id.in_(ids))
                                             .options(selectinload(Journey.stages)))}


def start(session: Session, child: Child, now: datetime) -> Enrolment | None:
    """Enrol a new child on the default journey and push the current stage right away,
    so a family's inbox is not empty until the scheduler's next tick."""
    from journeys.defaults import ensure_default_journey

    enrolment = enrol(session, child, ensure_default_journey(session))
    if enrolment is not None and enrolment.status == "active":
        tick_batch(session, now, after_id=enrolment.id - 1, batch_size=1)
    return enrolment
