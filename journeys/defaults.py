"""The default "Pregnancy to age 3" journey, created by the demo loader and on first tick.

One stage per week of pregnancy (4–40), per week after birth (0–12) and per month (3–36),
matching the content stages. On entering a stage: the stage's article and reminders to the
inbox; three days later: products that fit; families interested in skin care get the
stage's skin-care reading as a branch.
"""
from __future__ import annotations

from sqlalchemy import literal, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clock import utcnow
from content.stages import coverage_stages
from content.vocabulary import stage_label
from db import UTCDateTime, dialect_insert
from diary.models import Child
from journeys.models import Enrolment, Journey, JourneyStage

SLUG = "pregnancy-to-3"
STEPS = [
    {"push": ["article"], "channels": ["inbox"], "delay_days": 0, "limit": 1},
    {"push": ["reminder"], "channels": ["inbox"], "delay_days": 0, "limit": 2},
    {"push": ["product"], "channels": ["inbox"], "delay_days": 3, "limit": 2},
    {"push": ["article"], "channels": ["inbox"], "delay_days": 1, "limit": 2,
     "when_interest": "skin_care"},
]
KEY_PREFIX = {"pregnancy_week": "pw", "week": "bw", "month": "bm"}


def ensure_default_journey(session: Session) -> Journey:
    """The default journey, created on first use; two schedulers racing both end up with it."""
    journey = session.scalar(select(Journey).where(Journey.slug == SLUG))
    if journey is not None:
        return journey
    try:
        with session.begin_nested():
            return _create_default(session)
    except IntegrityError:  # another process created it first
        return session.scalars(select(Journey).where(Journey.slug == SLUG)).one()


def _create_default(session: Session) -> Journey:
    journey = Journey(slug=SLUG, name="Pregnancy to age 3", status="active", is_default=True,
                      entry_rule={"stage": "any"})
    for position, stage in enumerate(coverage_stages()):
        journey.stages.append(JourneyStage(
            key=f"{KEY_PREFIX[stage.unit]}-{stage.value}", position=position,
            name=stage_label(stage, "en"), window_unit=stage.unit,
            window_from=stage.value, window_to=stage.value, steps=[dict(s) for s in STEPS]))
    session.add(journey)
    session.flush()
    return journey


def enrol_everyone(session: Session, journey: Journey) -> int:
    """Enrol every child not yet on the journey, in one statement (fast at 100k children)."""
    missing = select(Child.id).where(~Child.id.in_(
        select(Enrolment.child_id).where(Enrolment.journey_id == journey.id)))
    ids = missing.subquery()
    result = session.execute(dialect_insert(session, Enrolment).from_select(
        ["journey_id", "child_id", "status", "enrolled_at"],
        # (SQLite needs a WHERE on the SELECT to parse INSERT … SELECT … ON CONFLICT)
        select(literal(journey.id), ids.c.id, literal("active"),
               literal(utcnow(), UTCDateTime())).where(true())).on_conflict_do_nothing(
        index_elements=["journey_id", "child_id"]).returning(Enrolment.id))
    # rowcount is -1 for INSERT … SELECT on some drivers; another scheduler may have enrolled
    # some of the same children a moment ago (ON CONFLICT DO NOTHING).
    return len(result.all())
