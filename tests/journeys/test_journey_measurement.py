"""Journeys get holdouts, goals and segments as entry rules, like campaigns: a held-out family
moves through the stages but gets nothing; a segment journey reaches only its members."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from content import packs
from diary import accounts, families
from diary import age as agemath
from diary.errors import ValidationError
from diary.models import Child, Membership, User
from diary.photos import PhotoStore
from journeys import authoring, engine, results
from journeys.holdouts import in_holdout
from journeys.models import Delivery, Enrolment, InboxMessage, Journey
from tests.conftest import PASSWORD
from tests.journeys.test_engine import _pack

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
TODAY = agemath.local_date(NOW, "Asia/Shanghai")
STEP = {"push": ["article"], "channels": ["inbox"], "delay_days": 0, "limit": 1}


class Audiences:
    def __init__(self, ids):
        self.ids = set(ids)

    def __call__(self, session, segment_id, now=None):
        return select(User.id).where(User.id.in_(self.ids))


def _family(s, name, with_dad=False):
    mum = accounts.create_user(s, f"{name}-{secrets.token_hex(3)}@example.com", PASSWORD,
                               accounts.Profile(display_name=name))
    family = families.create_family(s, mum, "mother", timezone="Asia/Shanghai")
    dad = None
    if with_dad:
        dad = accounts.create_user(s, f"{name}-dad-{secrets.token_hex(3)}@example.com",
                                   PASSWORD, accounts.Profile(display_name=f"{name} dad"))
        s.add(Membership(family=family, user=dad, role="editor", relationship_to_child="father"))
    child = Child(family=family, name="Bean", due_date=TODAY + timedelta(days=140))  # week 20
    s.add(child)
    s.flush()
    return mum, dad, child


@pytest.fixture()
def journey(session, tmp_path):
    packs.import_pack(session, _pack(tmp_path / "pack"), None, PhotoStore(tmp_path / "img"))
    j = authoring.create_journey(session, "second-trimester", "Second trimester")
    authoring.add_stage(session, j, "pw-20", "Week 20", "pregnancy_week", 20, 21, [STEP])
    authoring.resume(j)
    session.flush()
    return j


def _tick(session, children, journey, audience=None, now=NOW):
    for child in children:
        engine.enrol(session, child, journey)
    session.flush()
    engine.tick_batch(session, now, audience=audience)
    session.expire_all()


def _enrolment(s, child, journey):
    return s.scalar(select(Enrolment).where(Enrolment.child_id == child.id,
                                            Enrolment.journey_id == journey.id))


def _inbox(s, user):
    return s.scalar(select(func.count()).select_from(InboxMessage)
                    .where(InboxMessage.user_id == user.id))


def test_a_held_out_family_moves_on_but_gets_nothing(session, journey):
    s = session
    authoring.update_journey(s, journey, journey.name, journey.entry_rule,
                             authoring.Measurement(0.5, "visit", 7))
    made = [_family(s, f"f{n}", with_dad=n == 0) for n in range(10)]
    _tick(s, [child for _, _, child in made], journey)
    held, reached_people = 0, 0
    for mum, dad, child in made:
        enrolment = _enrolment(s, child, journey)
        assert enrolment.entered_at == NOW and enrolment.stage_key == "pw-20"
        expected = in_holdout(f"j{journey.id}", f"family:{child.family_id}", "1", 0.5)
        assert enrolment.holdout is expected
        got = 0 if expected else 1
        assert _inbox(s, mum) == got
        if dad is not None:
            assert _inbox(s, dad) == got  # the family is on one side together
        held += expected
        reached_people += 0 if expected else 1 + (dad is not None)
    assert 0 < held < 10
    # later ticks keep the side and the entry time, even with the holdout turned off
    authoring.update_journey(s, journey, journey.name, journey.entry_rule,
                             authoring.Measurement(0.0, "visit", 7))
    engine.recheck_journey(s, journey)
    engine.tick_batch(s, NOW + timedelta(days=1))
    s.expire_all()
    for _, _, child in made:
        enrolment = _enrolment(s, child, journey)
        assert enrolment.entered_at == NOW
        assert enrolment.holdout is in_holdout(f"j{journey.id}", f"family:{child.family_id}",
                                               "1", 0.5)
    assert s.scalar(select(func.count()).select_from(Delivery)) == reached_people


def test_a_segment_journey_reaches_only_its_members(session, journey):
    s = session
    mum, dad, child = _family(s, "in", with_dad=True)
    other, _, other_child = _family(s, "out")
    authoring.update_journey(s, journey, journey.name, {"stage": "any", "segment": 5})
    assert journey.entry_rule == {"stage": "any", "segment": 5}
    _tick(s, [child, other_child], journey)  # no audience handed in: nobody
    assert _enrolment(s, child, journey).entered_at is None
    assert s.scalar(select(func.count()).select_from(Delivery)) == 0
    engine.tick_batch(s, NOW, audience=Audiences([dad.id]))
    s.expire_all()
    assert (_inbox(s, dad), _inbox(s, mum), _inbox(s, other)) == (1, 0, 0)
    assert _enrolment(s, child, journey).entered_at == NOW
    assert _enrolment(s, other_child, journey).entered_at is None


def test_entry_rules_refuse_a_bad_segment_and_measurements_are_checked(session, journey):
    for bad in ("5", True, -1, 2**31, 1.5):
        with pytest.raises(ValidationError) as raised:
            authoring.validate_entry_rule({"segment": bad})
        assert raised.value.field == "segment"
    for share, goal, days, field in ((0.6, "visit", 7, "holdout"), (0.1, None, 7, "goal"),
                                     (0.1, "love", 7, "goal"), (0.1, "visit", 0, "goal_days"),
                                     (0.1, "visit", 61, "goal_days"),
                                     (True, "visit", 7, "holdout")):
        with pytest.raises(ValidationError) as raised:
            authoring.update_journey(session, journey, journey.name, journey.entry_rule,
                                     authoring.Measurement(share, goal, days))
        assert raised.value.field == field
    version = journey.version
    authoring.update_journey(session, journey, journey.name, journey.entry_rule,
                             authoring.Measurement(0.25, "purchase", 30))
    assert (journey.holdout_share, journey.goal, journey.goal_days, journey.version) == (
        0.25, "purchase", 30, version + 1)


def test_journey_conversions_and_lift(session, journey):
    s = session
    authoring.update_journey(s, journey, journey.name, journey.entry_rule,
                             authoring.Measurement(0.5, "visit", 7))
    made = [_family(s, f"f{n}", with_dad=n == 0) for n in range(12)]
    _tick(s, [child for _, _, child in made], journey)
    # every other family comes back within the week (a caregiver's visit is enough)
    for n, (mum, dad, _) in enumerate(made):
        if n % 2 == 0:
            (dad or mum).last_seen_at = NOW + timedelta(days=2)
        else:
            mum.last_seen_at = NOW + timedelta(days=9)  # after the window
    s.flush()
    assert results.measure_journeys(s, NOW + timedelta(days=10)) == 6
    assert results.measure_journeys(s, NOW + timedelta(days=10)) == 0
    s.expire_all()
    out = results.journey_results(s, s.get(Journey, journey.id))
    held = {child.family_id for _, _, child in made
            if in_holdout(f"j{journey.id}", f"family:{child.family_id}", "1", 0.5)}
    converted = {made[n][2].family_id for n in range(0, 12, 2)}
    assert (out.sent, out.held_out) == (12 - len(held), len(held))
    assert out.converted == len(converted - held)
    assert out.holdout_converted == len(converted & held)
    assert out.delivered == sum(1 + (dad is not None) for _, dad, child in made
                                if child.family_id not in held)
    assert out.lift is not None
    assert out.lift.difference == pytest.approx(out.rate - out.holdout_rate)


def test_a_segment_that_is_gone_lets_nobody_in(session, journey):
    from diary.errors import NotFound

    def gone(session, segment_id, now=None):
        raise NotFound()

    s = session
    mum, _, child = _family(s, "gone")
    authoring.update_journey(s, journey, journey.name, {"stage": "any", "segment": 9})
    _tick(s, [child], journey, audience=gone)
    assert _enrolment(s, child, journey).entered_at is None
    assert _inbox(s, mum) == 0
