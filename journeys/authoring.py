"""Authoring journeys: the marketers' changes to journeys, their stages and their steps.

Plain functions taking `session` first (where they need one); they validate, change the
rows and flush, and never commit: the caller owns the transaction.

Two promises the rest of the system relies on:

* A stage's `key` never changes once created. It names the stage in enrolments and in the
  ledger's payloads. Editing anything else (the window, the steps, the name, the entry rule)
  is safe: the ledger occurrence is `f"j{journey.id}"`, so an item already delivered to a
  person on this journey is never delivered again, however often the journey is edited.
* Stages of one journey never overlap, and their `position`s always follow time order
  (pregnancy weeks, then baby weeks, then baby months). The engine matches a child to the
  first stage whose window holds the child's stage, and treats the last position's window
  as the journey's end (`engine.is_past_journey`), so order is part of the meaning, not
  decoration: "moving" a stage means moving its window in time (`move_stage`), and its
  position follows.

Every change bumps `journey.version` (pausing and resuming too), so staff can see that a
journey changed and the flow view can show which version they are looking at; and every
change asks the engine to look at the journey's enrolments again at the next tick
(`engine.recheck_journey`), so a new step or a moved window takes effect at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from clock import utcnow
from content.models import ContentItem
from content.stages import UNIT_RANGES, UNITS, Stage
from content.vocabulary import UNIT_NAMES
from diary import age as agemath
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.models import Child, Family, Membership, User
from diary.vocabulary import INTERESTS
from journeys import defaults, engine, goals
from journeys.holdouts import MAX_SHARE
from journeys.models import Delivery, Enrolment, Journey, JourneyStage, TickRun

PUSH_KINDS = ("article", "reminder", "product")
CHANNELS = ("inbox", "email")
ENTRY_STAGES = ("any", "expecting", "born")
STATUSES = ("active", "paused")
DELAY_RANGE = (0, 60)
LIMIT_RANGE = (1, 5)
MAX_STEPS = 10
UNIT_ORDER = {unit: index for index, unit in enumerate(UNITS)}
#: The default journey's steps, offered when a marketer adds a stage.
STANDARD_STEPS = defaults.STEPS

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_MEMBER_NO = re.compile(r"^BJ\d{8}$")


class StepError(ValidationError):
    """A problem with one step of a stage; `index` is the step's place (0-based)."""

    def __init__(self, index: int, message: str, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message, field, step=index + 1, **params)
        self.index = index


# --- journeys --------------------------------------------------------------------------------

def get_journey(session: Session, journey_id: int) -> Journey:
    journey = session.scalar(select(Journey).where(Journey.id == journey_id)
                             .options(selectinload(Journey.stages)))
    if journey is None:
        raise NotFound()
    return journey


def get_stage(session: Session, journey: Journey, stage_id: int) -> JourneyStage:
    for stage in journey.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound()


def create_journey(session: Session, slug: str, name: str,
                   entry_rule: dict[str, Any] | None = None) -> Journey:
    """A new journey, paused until a marketer resumes it (so a half-built one pushes nothing)."""
    slug = _slug(slug, "slug", 80)
    if session.scalar(select(Journey.id).where(Journey.slug == slug)) is not None:
        raise Conflict(N_("Another journey already uses the slug “%(slug)s”."), "slug",
                       slug=slug)
    journey = Journey(slug=slug, name=_name(name), status="paused",
                      entry_rule=validate_entry_rule(entry_rule or {}), version=1,
                      is_default=False)
    session.add(journey)
    session.flush()
    return journey


def update_journey(session: Session, journey: Journey, name: str,
                   entry_rule: dict[str, Any] | None,
                   measurement: Measurement | None = None) -> Journey:
    """Rename the journey and change who may enter (and, when given, its holdout and goal);
    bumps the version when anything changed."""
    new_name, rule = _name(name), validate_entry_rule(entry_rule or {})
    measure = measurement.validated() if measurement is not None else Measurement(
        journey.holdout_share or 0.0, journey.goal, journey.goal_days or 14)
    now = (journey.holdout_share or 0.0, journey.goal, journey.goal_days or 14)
    if new_name != journey.name or rule != (journey.entry_rule or {}) or \
            (measure.holdout_share, measure.goal, measure.goal_days) != now:
        journey.name, journey.entry_rule = new_name, rule
        journey.holdout_share, journey.goal, journey.goal_days = (
            measure.holdout_share, measure.goal, measure.goal_days)
        _bump(journey)
    session.flush()
    return journey


@dataclass(frozen=True)
class Measurement:
    """A journey's holdout share (0 … holdouts.MAX_SHARE) and goal (None: none) within
    `goal_days` of entering. A family's side of the holdout is decided when its child first
    enters and never changes, so a new share applies to families entering from then on."""

    holdout_share: float
    goal: str | None
    goal_days: int

    def validated(self) -> Measurement:
        share = self.holdout_share
        if not isinstance(share, (int, float)) or isinstance(share, bool) or \
                not 0 <= share <= MAX_SHARE:
            raise ValidationError(N_("The holdout must be 0 to %(max)d %% of families."),
                                  "holdout", max=round(MAX_SHARE * 100))
        goal = self.goal or None
        if goal is not None and goal not in goals.GOALS:
            raise ValidationError(N_("Choose the journey's goal."), "goal")
        low, high = goals.GOAL_DAYS
        if not isinstance(self.goal_days, int) or isinstance(self.goal_days, bool) or \
                not low <= self.goal_days <= high:
            raise ValidationError(N_("The goal window must be %(low)d to %(high)d days."),
                                  "goal_days", low=low, high=high)
        if share and goal is None:
            raise ValidationError(N_("A holdout needs a goal to measure: choose one."), "goal")
        return Measurement(round(float(share), 4), goal, self.goal_days)


def validate_entry_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """{"stage": "any"|"expecting"|"born", "interests": [...], "region": "...",
    "segment": <saved segment id>}, normalised. Whether the segment exists is the caller's
    check (segments live in crm, above journeys)."""
    if not isinstance(rule, dict):
        raise ValidationError(N_("The entry rule is not valid."), "entry_stage")
    unknown = set(rule) - {"stage", "interests", "region", "segment"}
    if unknown:
        raise ValidationError(N_("The entry rule has unknown parts: %(names)s."),
                              "entry_stage", names=", ".join(sorted(unknown)))
    stage = rule.get("stage") or "any"
    if stage not in ENTRY_STAGES:
        raise ValidationError(N_("Choose who may enter: any family, expecting families or "
                                 "families whose baby is born."), "entry_stage")
    interests = rule.get("interests") or []
    if not isinstance(interests, (list, tuple)) or \
            not all(isinstance(i, str) for i in interests):
        raise ValidationError(N_("Interests must be a list."), "interests")
    bad = sorted(set(interests) - set(INTERESTS))
    if bad:
        raise ValidationError(N_("Unknown interests: %(names)s."), "interests",
                              names=", ".join(bad))
    region = rule.get("region") or ""
    if not isinstance(region, str) or len(region.strip()) > 80:
        raise ValidationError(N_("The region can be at most 80 characters."), "region")
    segment = rule.get("segment") or None
    if segment is not None and (not isinstance(segment, int) or isinstance(segment, bool)
                                or not 0 < segment < 2**31):
        raise ValidationError(N_("Choose a saved segment."), "segment")
    result: dict[str, Any] = {"stage": stage}
    if interests:
        result["interests"] = [i for i in INTERESTS if i in set(interests)]
    if region.strip():
        result["region"] = region.strip()
    if segment is not None:
        result["segment"] = segment
    return result


def pause(journey: Journey) -> Journey:
    """Stop pushing: the engine skips enrolments of journeys that are not active."""
    if journey.status != "paused":
        journey.status = "paused"
        _bump(journey)
    return journey


def resume(journey: Journey) -> Journey:
    if journey.status != "active":
        journey.status = "active"
        _bump(journey)
    return journey


# --- stages ----------------------------------------------------------------------------------

def add_stage(session: Session, journey: Journey, key: str, name: str, unit: str,
              window_from: int, window_to: int,
              steps: list[dict[str, Any]] | None = None) -> JourneyStage:
    """A new stage; its key is fixed for ever. Its position follows its window in time."""
    key = _slug(key, "key", 40)
    if any(s.key == key for s in journey.stages):
        raise Conflict(N_("This journey already has a stage with the key “%(key)s”. Keys "
                          "never change and are never reused within a journey."), "key",
                       key=key)
    unit, low, high = _window(unit, window_from, window_to)
    _check_overlap(journey, None, unit, low, high)
    stage = JourneyStage(key=key, name=_name(name), window_unit=unit, window_from=low,
                         window_to=high, steps=validate_steps(steps or []),
                         position=len(journey.stages))
    journey.stages.append(stage)
    _renumber(journey)
    _bump(journey)
    session.flush()
    return stage


def update_stage(session: Session, stage: JourneyStage, *, name: str | None = None,
                 unit: str | None = None, window_from: int | None = None,
                 window_to: int | None = None) -> JourneyStage:
    """Rename a stage and/or change its window (never its key)."""
    journey = stage.journey
    new_name = _name(name) if name is not None else stage.name
    if unit is None and window_from is None and window_to is None:
        new_unit, low, high = stage.window_unit, stage.window_from, stage.window_to
    else:
        new_unit, low, high = _window(
            unit if unit is not None else stage.window_unit,
            window_from if window_from is not None else stage.window_from,
            window_to if window_to is not None else stage.window_to)
        _check_overlap(journey, stage, new_unit, low, high)
    changed = (new_name, new_unit, low, high) != (stage.name, stage.window_unit,
                                                  stage.window_from, stage.window_to)
    if changed:
        stage.name, stage.window_unit, stage.window_from, stage.window_to = \
            new_name, new_unit, low, high
        _renumber(journey)
        _bump(journey)
    session.flush()
    return stage


def move_stage(session: Session, stage: JourneyStage, unit: str, window_from: int,
               window_to: int | None = None) -> JourneyStage:
    """Move a stage to another window in time (keeping its width unless `window_to` is
    given); its key, steps and ledger history stay, and its position follows the window."""
    if window_to is None:
        window_to = _int(window_from, "window_from") + (stage.window_to - stage.window_from)
    return update_stage(session, stage, unit=unit, window_from=window_from,
                        window_to=window_to)


def remove_stage(session: Session, stage: JourneyStage) -> None:
    """Delete a stage. Its deliveries stay in the ledger (and are never sent again)."""
    journey = stage.journey
    journey.stages.remove(stage)  # delete-orphan
    _renumber(journey)
    _bump(journey)
    session.flush()


def set_steps(stage: JourneyStage, steps: list[dict[str, Any]]) -> JourneyStage:
    """Replace a stage's steps (validated and normalised); bumps the journey's version."""
    clean = validate_steps(steps)
    if clean != (stage.steps or []):
        stage.steps = clean  # a new list, so the JSON column sees the change
        _bump(stage.journey)
    return stage


def add_step(stage: JourneyStage, step: dict[str, Any]) -> JourneyStage:
    steps = list(stage.steps or [])
    return set_steps(stage, [*steps, validate_step(step, len(steps))])


def update_step(stage: JourneyStage, index: int, step: dict[str, Any]) -> JourneyStage:
    steps = list(stage.steps or [])
    if not 0 <= index < len(steps):
        raise NotFound()
    steps[index] = validate_step(step, index)
    return set_steps(stage, steps)


def remove_step(stage: JourneyStage, index: int) -> JourneyStage:
    steps = list(stage.steps or [])
    if not 0 <= index < len(steps):
        raise NotFound()
    del steps[index]
    return set_steps(stage, steps)


def validate_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(steps, (list, tuple)):
        raise ValidationError(N_("Steps must be a list."), "steps")
    if len(steps) > MAX_STEPS:
        raise ValidationError(N_("A stage can have at most %(num)d steps."), "steps",
                              num=MAX_STEPS)
    return [validate_step(step, index) for index, step in enumerate(steps)]


def validate_step(step: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """One step, normalised to {"push", "channels", "delay_days", "limit", "when_interest"}."""
    if not isinstance(step, dict):
        raise StepError(index, N_("Step %(step)d is not valid."))
    unknown = set(step) - {"push", "channels", "delay_days", "limit", "when_interest"}
    if unknown:
        raise StepError(index, N_("Step %(step)d has unknown settings: %(names)s."),
                        names=", ".join(sorted(unknown)))
    push = _choices(step.get("push"), PUSH_KINDS, index, "push")
    if not push:
        raise StepError(index, N_("Step %(step)d: choose at least one kind of content to "
                                  "push (articles, reminders or products)."), "push")
    channels = _choices(step.get("channels", ["inbox"]), CHANNELS, index, "channels")
    if not channels:
        raise StepError(index, N_("Step %(step)d: choose at least one channel (inbox or "
                                  "email)."), "channels")
    delay = _step_int(step.get("delay_days", 0), index, "delay_days", DELAY_RANGE,
                      N_("Step %(step)d: the delay must be %(low)d to %(high)d days."))
    limit = _step_int(step.get("limit", 2), index, "limit", LIMIT_RANGE,
                      N_("Step %(step)d: push %(low)d to %(high)d items of each kind."))
    interest = step.get("when_interest") or None
    if interest is not None and interest not in INTERESTS:
        raise StepError(index, N_("Step %(step)d: “%(name)s” is not an interest families "
                                  "can choose."), "when_interest", name=str(interest)[:40])
    return {"push": push, "channels": channels, "delay_days": delay, "limit": limit,
            "when_interest": interest}


# --- reading: the flow view ------------------------------------------------------------------

@dataclass
class StageCounts:
    families: int = 0  # active enrolments whose current stage is this one
    delivered: int = 0  # ledger rows sent from this stage (every channel)
    waiting: int = 0  # ledger rows not sent yet (pending, or failed and retrying)
    failed: int = 0  # ledger rows given up on (dead) or suppressed


@dataclass
class StageView:
    stage: JourneyStage
    steps: list[dict[str, Any]]
    counts: StageCounts

    def __iter__(self):  # type: ignore[no-untyped-def]  # (stage, steps, counts)
        return iter((self.stage, self.steps, self.counts))


def journey_view(session: Session, journey: Journey) -> list[StageView]:
    """The stages in order, each with its (normalised) steps and how many families/pushes."""
    families = dict(session.execute(
        select(Enrolment.stage_key, func.count()).where(
            Enrolment.journey_id == journey.id, Enrolment.status == "active",
            Enrolment.stage_key.is_not(None)).group_by(Enrolment.stage_key)).all())
    stage_key = Delivery.payload["stage_key"].as_string()
    pushes: dict[str, StageCounts] = {}
    for key, status, count in session.execute(
            select(stage_key, Delivery.status, func.count())
            .where(Delivery.journey_id == journey.id).group_by(stage_key, Delivery.status)):
        counts = pushes.setdefault(key or "", StageCounts())
        if status == "sent":
            counts.delivered += count
        elif status in ("pending", "failed"):
            counts.waiting += count
        else:
            counts.failed += count
    views = []
    for stage in sorted(journey.stages, key=lambda s: s.position):
        counts = pushes.get(stage.key, StageCounts())
        counts.families = families.get(stage.key, 0)
        views.append(StageView(stage, [_readable(s) for s in stage.steps or []], counts))
    return views


def _readable(step: dict[str, Any]) -> dict[str, Any]:
    """Old or hand-written steps shown the way the engine reads them (its defaults)."""
    return {"push": list(step.get("push") or []),
            "channels": list(step.get("channels") or ["inbox"]),
            "delay_days": int(step.get("delay_days") or 0),
            "limit": int(step.get("limit") or 2),
            "when_interest": step.get("when_interest") or None}


@dataclass
class JourneySummary:
    journey: Journey
    stage_count: int
    active_enrolments: int


def journey_list(session: Session) -> list[JourneySummary]:
    counts = dict(session.execute(select(JourneyStage.journey_id, func.count())
                                  .group_by(JourneyStage.journey_id)).all())
    active = dict(session.execute(select(Enrolment.journey_id, func.count())
                                  .where(Enrolment.status == "active")
                                  .group_by(Enrolment.journey_id)).all())
    journeys = session.scalars(select(Journey).order_by(Journey.is_default.desc(),
                                                        Journey.name, Journey.id))
    return [JourneySummary(j, counts.get(j.id, 0), active.get(j.id, 0)) for j in journeys]


def last_tick(session: Session) -> TickRun | None:
    return session.scalar(select(TickRun).where(TickRun.kind == "journeys")
                          .order_by(TickRun.started_at.desc(), TickRun.id.desc()).limit(1))


# --- reading: one family ---------------------------------------------------------------------

def find_member(session: Session, query: str) -> User | None:
    """A parent by member number (BJ12345678, any case) or by email address."""
    text = (query or "").strip()
    if not text:
        return None
    if _MEMBER_NO.match(text.upper()):
        return session.scalar(select(User).where(User.member_no == text.upper()))
    if "@" in text:
        return session.scalar(select(User).where(func.lower(User.email) == text.lower()))
    return None


def member_families(session: Session, user: User) -> list[Family]:
    return list(session.scalars(
        select(Family).join(Membership).where(Membership.user_id == user.id)
        .options(selectinload(Family.children),
                 selectinload(Family.memberships).selectinload(Membership.user))
        .order_by(Family.id)))


@dataclass
class EnrolmentView:
    enrolment: Enrolment
    journey: Journey
    today: date
    stage: JourneyStage | None  # recomputed now, in the family's time zone
    content_stage: Stage | None
    stored_stage: JourneyStage | None  # what the last tick recorded


@dataclass
class DeliveryView:
    delivery: Delivery
    recipient: User | None
    title: str
    kind: str
    journey: Journey | None
    stage: JourneyStage | None


@dataclass
class FamilyJourney:
    child: Child
    today: date
    enrolments: list[EnrolmentView] = field(default_factory=list)
    deliveries: list[DeliveryView] = field(default_factory=list)
    more_deliveries: bool = False


def family_journey(session: Session, child: Child, now: datetime | None = None,
                   locale: str = "en", limit: int = 200) -> FamilyJourney:
    """A child's enrolments (current stage recomputed for today in the family's zone) and
    the ledger rows for the child, newest first."""
    now = now or utcnow()
    today = agemath.local_date(now, child.family.timezone)
    result = FamilyJourney(child=child, today=today)
    journeys: dict[int, Journey] = {}
    for enrolment in session.scalars(select(Enrolment).where(Enrolment.child_id == child.id)
                                     .order_by(Enrolment.id)):
        journey = _journey(session, journeys, enrolment.journey_id)
        if journey is None:
            continue
        stage, content_stage = engine.journey_stage(journey, child, today)
        stored = next((s for s in journey.stages if s.key == enrolment.stage_key), None)
        result.enrolments.append(EnrolmentView(enrolment, journey, today, stage,
                                               content_stage, stored))
    rows = list(session.scalars(select(Delivery).where(Delivery.child_id == child.id)
                                .order_by(Delivery.created_at.desc(), Delivery.id.desc())
                                .limit(limit + 1)))
    result.more_deliveries = len(rows) > limit
    rows = rows[:limit]
    item_ids = {(r.payload or {}).get("item_id") for r in rows} - {None}
    items = {i.id: i for i in session.scalars(
        select(ContentItem).where(ContentItem.id.in_(item_ids))
        .options(selectinload(ContentItem.translations)))} if item_ids else {}
    user_ids = {r.user_id for r in rows}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    for row in rows:
        payload = row.payload or {}
        item_id = payload.get("item_id")
        item = items.get(item_id) if isinstance(item_id, int) else None
        kind, _, key = row.item_key.partition(":")
        title = key or row.item_key
        if item is not None:
            text = item.text(locale)
            title = text.title if text is not None and text.title else item.key
            kind = item.kind
        journey = _journey(session, journeys, row.journey_id) if row.journey_id else None
        stage = next((s for s in journey.stages if s.key == payload.get("stage_key")),
                     None) if journey is not None else None
        result.deliveries.append(DeliveryView(row, users.get(row.user_id), title, kind,
                                              journey, stage))
    return result


def _journey(session: Session, cache: dict[int, Journey], journey_id: int) -> Journey | None:
    if journey_id not in cache:
        journey = session.scalar(select(Journey).where(Journey.id == journey_id)
                                 .options(selectinload(Journey.stages)))
        if journey is None:
            return None
        cache[journey_id] = journey
    return cache[journey_id]


# --- helpers ---------------------------------------------------------------------------------

def _bump(journey: Journey) -> None:
    """A new version, and every enrolment is looked at again by the next tick (the engine
    skips enrolments until their `next_check_at`, computed from the old definition)."""
    journey.version = (journey.version or 1) + 1
    journey.updated_at = utcnow()
    session = object_session(journey)
    if session is not None and journey.id is not None:
        engine.recheck_journey(session, journey)


def _renumber(journey: Journey) -> None:
    """Positions follow time order: pregnancy weeks, baby weeks, baby months."""
    ordered = sorted(journey.stages, key=lambda s: (UNIT_ORDER.get(s.window_unit, 99),
                                                    s.window_from, s.window_to))
    for index, stage in enumerate(ordered):
        stage.position = index
    journey.stages.sort(key=lambda s: s.position)


def _slug(value: str, name: str, max_length: int) -> str:
    text = (value or "").strip().lower()
    if not text:
        raise ValidationError(N_("Required: use lowercase letters, digits and hyphens."), name)
    if len(text) > max_length or not _SLUG.match(text):
        raise ValidationError(N_("Use up to %(num)d lowercase letters, digits and hyphens, "
                                 "such as “pw-20”."), name, num=max_length)
    return text


def _name(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(N_("Enter a name."), "name")
    if len(text) > 120:
        raise ValidationError(N_("The name can be at most 120 characters."), "name")
    return text


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(N_("Enter a whole number."), name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(N_("Enter a whole number."), name) from None


def _window(unit: str, window_from: Any, window_to: Any) -> tuple[str, int, int]:
    if unit not in UNIT_RANGES:
        raise ValidationError(N_("Choose pregnancy weeks, baby weeks or baby months."),
                              "window_unit")
    low, high = _int(window_from, "window_from"), _int(window_to, "window_to")
    first, last = UNIT_RANGES[unit]
    if not first <= low <= last:
        raise ValidationError(N_("%(unit)s run from %(low)d to %(high)d."),
                              "window_from", unit=UNIT_NAMES[unit], low=first, high=last)
    if not first <= high <= last:
        raise ValidationError(N_("%(unit)s run from %(low)d to %(high)d."),
                              "window_to", unit=UNIT_NAMES[unit], low=first, high=last)
    if low > high:
        raise ValidationError(N_("The window must start before it ends (from ≤ to)."),
                              "window_to")
    return unit, low, high


def _check_overlap(journey: Journey, stage: JourneyStage | None, unit: str, low: int,
                   high: int) -> None:
    for other in journey.stages:
        if other is stage or other.window_unit != unit:
            continue
        if low <= other.window_to and other.window_from <= high:
            raise ValidationError(
                N_("This window overlaps the stage “%(name)s” (%(key)s, %(unit)s "
                   "%(low)d–%(high)d). Stages of a journey must not overlap."),
                "window_from", name=other.name, key=other.key, unit=UNIT_NAMES[unit],
                low=other.window_from, high=other.window_to)


def _choices(value: Any, allowed: tuple[str, ...], index: int, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise StepError(index, N_("Step %(step)d: %(setting)s must be a list."), name,
                        setting=name)
    bad = [v for v in value if v not in allowed]
    if bad:
        raise StepError(index, N_("Step %(step)d: unknown choices %(names)s (allowed: "
                                  "%(allowed)s)."), name,
                        names=", ".join(str(b)[:20] for b in bad), allowed=", ".join(allowed))
    return [v for v in allowed if v in set(value)]  # canonical order, no duplicates


def _step_int(value: Any, index: int, name: str, bounds: tuple[int, int], message: str) -> int:
    low, high = bounds
    if isinstance(value, bool):
        raise StepError(index, message, name, low=low, high=high)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StepError(index, message, name, low=low, high=high) from None
    if number != value and not (isinstance(value, str) and value.strip().isdigit()):
        raise StepError(index, message, name, low=low, high=high)
    if not low <= number <= high:
        raise StepError(index, message, name, low=low, high=high)
    return number

