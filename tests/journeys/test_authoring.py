"""Authoring journeys: validation, versions, and edits that never re-send anything."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from diary.errors import Conflict, NotFound, ValidationError
from diary.models import Child, User
from journeys import authoring, defaults, jobs
from journeys.authoring import StepError
from journeys.models import Delivery, Enrolment, InboxMessage, Journey
from tests.journeys.test_engine import world  # noqa: F401 - the real, committed database

STEP = {"push": ["article"], "channels": ["inbox"], "delay_days": 0, "limit": 1}


@pytest.fixture()
def journey(session):
    j = authoring.create_journey(session, "first-year", "First year", {"stage": "born"})
    authoring.add_stage(session, j, "bw-0-4", "Newborn", "week", 0, 4, [STEP])
    authoring.add_stage(session, j, "bm-3-5", "Months 3 to 5", "month", 3, 5)
    return j


# --- journeys --------------------------------------------------------------------------------

def test_new_journeys_start_paused_at_version_one_with_a_clean_entry_rule(session):
    j = authoring.create_journey(session, " Skin-Club ", "Skin club",
                                 {"stage": "any", "interests": ["skin_care", "skin_care"],
                                  "region": "  Shanghai "})
    assert (j.slug, j.status, j.version, j.is_default) == ("skin-club", "paused", 1, False)
    assert j.entry_rule == {"stage": "any", "interests": ["skin_care"], "region": "Shanghai"}


@pytest.mark.parametrize("slug, name, rule, field", [
    ("Has Spaces", "X", {}, "slug"),
    ("", "X", {}, "slug"),
    ("ok", "", {}, "name"),
    ("ok", "X", {"stage": "toddler"}, "entry_stage"),
    ("ok", "X", {"interests": ["astrology"]}, "interests"),
    ("ok", "X", {"region": "x" * 81}, "region"),
    ("ok", "X", {"colour": "red"}, "entry_stage"),
])
def test_journey_fields_are_validated(session, slug, name, rule, field):
    with pytest.raises(ValidationError) as error:
        authoring.create_journey(session, slug, name, rule)
    assert error.value.field == field


def test_slugs_are_unique(session, journey):
    with pytest.raises(Conflict) as error:
        authoring.create_journey(session, "first-year", "Again", {})
    assert error.value.field == "slug"


def test_every_change_bumps_the_version_and_a_non_change_does_not(session, journey):
    v = journey.version
    assert v == 3  # created, plus two stages
    authoring.update_journey(session, journey, "First year", {"stage": "born"})
    assert journey.version == v  # nothing changed
    authoring.update_journey(session, journey, "The first year", {"stage": "born"})
    assert journey.version == v + 1
    stage = journey.stages[0]
    authoring.set_steps(stage, [dict(STEP, limit=2)])
    authoring.update_stage(session, stage, name="Newborn weeks")
    authoring.move_stage(session, stage, "week", 2)
    authoring.pause(authoring.resume(journey))
    authoring.remove_stage(session, journey.stages[-1])
    assert journey.version == v + 7


# --- stages ----------------------------------------------------------------------------------

@pytest.mark.parametrize("unit, low, high, field", [
    ("year", 1, 2, "window_unit"),
    ("week", 5, 4, "window_to"),
    ("week", 0, 13, "window_to"),
    ("pregnancy_week", 3, 8, "window_from"),
    ("month", 3, 61, "window_to"),
    ("month", "three", 5, "window_from"),
])
def test_windows_must_fit_the_unit(session, journey, unit, low, high, field):
    with pytest.raises(ValidationError) as error:
        authoring.add_stage(session, journey, "new", "New", unit, low, high)
    assert error.value.field == field


def test_overlapping_windows_are_refused_naming_the_other_stage(session, journey):
    with pytest.raises(ValidationError) as error:
        authoring.add_stage(session, journey, "bw-4-8", "Weeks 4-8", "week", 4, 8)
    assert "Newborn" in str(error.value) and "bw-0-4" in str(error.value)
    authoring.add_stage(session, journey, "bw-5-8", "Weeks 5-8", "week", 5, 8)
    newborn = journey.stages[0]
    with pytest.raises(ValidationError, match="Weeks 5-8"):
        authoring.update_stage(session, newborn, window_to=6)
    with pytest.raises(ValidationError, match="Weeks 5-8"):
        authoring.move_stage(session, newborn, "week", 3)  # width 5: weeks 3-7
    # the same numbers in another unit are no overlap
    authoring.add_stage(session, journey, "pw-4-8", "Early pregnancy", "pregnancy_week", 4, 8)


def test_keys_are_slugs_unique_in_the_journey_and_never_change(session, journey):
    with pytest.raises(Conflict) as error:
        authoring.add_stage(session, journey, "bw-0-4", "Again", "month", 10, 12)
    assert error.value.field == "key"
    with pytest.raises(ValidationError):
        authoring.add_stage(session, journey, "Bad Key!", "Bad", "month", 10, 12)
    with pytest.raises(TypeError):
        authoring.update_stage(session, journey.stages[0], key="renamed")  # type: ignore
    stage = journey.stages[0]
    authoring.move_stage(session, stage, "month", 20, 24)
    assert stage.key == "bw-0-4" and stage.window_unit == "month"


def test_positions_follow_time_order(session, journey):
    authoring.add_stage(session, journey, "pw-30", "Third trimester", "pregnancy_week", 30, 40)
    authoring.add_stage(session, journey, "bw-6", "Week 6", "week", 6, 6)
    assert [s.key for s in journey.stages] == ["pw-30", "bw-0-4", "bw-6", "bm-3-5"]
    assert [s.position for s in journey.stages] == [0, 1, 2, 3]
    authoring.move_stage(session, journey.stages[0], "month", 10)  # width kept: 10-20
    session.expire_all()
    j = authoring.get_journey(session, journey.id)
    assert [(s.key, s.window_from, s.window_to) for s in j.stages][-1] == ("pw-30", 10, 20)
    authoring.remove_stage(session, j.stages[0])
    assert [s.position for s in j.stages] == [0, 1, 2]
    with pytest.raises(NotFound):
        authoring.get_stage(session, j, 987654)


# --- steps -----------------------------------------------------------------------------------

def test_steps_are_normalised(session, journey):
    stage = journey.stages[1]
    authoring.set_steps(stage, [{"push": ["product", "article", "product"],
                                 "channels": ["email", "inbox"], "delay_days": "3",
                                 "limit": 2, "when_interest": ""}])
    assert stage.steps == [{"push": ["article", "product"], "channels": ["inbox", "email"],
                            "delay_days": 3, "limit": 2, "when_interest": None}]


@pytest.mark.parametrize("change, field", [
    ({"push": []}, "push"),
    ({"push": ["article", "video"]}, "push"),
    ({"push": "article"}, "push"),
    ({"channels": ["sms"]}, "channels"),
    ({"channels": []}, "channels"),
    ({"delay_days": -1}, "delay_days"),
    ({"delay_days": 61}, "delay_days"),
    ({"delay_days": 1.5}, "delay_days"),
    ({"limit": 0}, "limit"),
    ({"limit": 6}, "limit"),
    ({"limit": True}, "limit"),
    ({"when_interest": "astrology"}, "when_interest"),
    ({"colour": "red"}, None),
])
def test_bad_steps_are_refused_naming_the_step_and_field(session, journey, change, field):
    stage = journey.stages[0]
    before, version = list(stage.steps), journey.version
    with pytest.raises(StepError) as error:
        authoring.set_steps(stage, [STEP, dict(STEP, **change)])
    assert error.value.index == 1 and error.value.field == field
    assert str(error.value).startswith("Step 2")
    assert stage.steps == before and journey.version == version


def test_edges_of_the_step_ranges_are_fine(session, journey):
    stage = journey.stages[0]
    authoring.set_steps(stage, [dict(STEP, delay_days=0, limit=1),
                                dict(STEP, delay_days=60, limit=5, when_interest="sleep")])
    assert [s["limit"] for s in stage.steps] == [1, 5]
    with pytest.raises(ValidationError):
        authoring.set_steps(stage, [STEP] * (authoring.MAX_STEPS + 1))


def test_single_step_helpers(session, journey):
    stage = journey.stages[1]
    authoring.add_step(stage, dict(STEP, push=["reminder"]))
    authoring.add_step(stage, dict(STEP, push=["product"], delay_days=3))
    authoring.update_step(stage, 0, dict(STEP, push=["reminder"], when_interest="feeding"))
    assert stage.steps[0]["when_interest"] == "feeding"
    with pytest.raises(StepError) as error:
        authoring.update_step(stage, 1, dict(STEP, limit=9))
    assert error.value.index == 1 and error.value.field == "limit"
    authoring.remove_step(stage, 0)
    assert [s["push"] for s in stage.steps] == [["product"]]
    with pytest.raises(NotFound):
        authoring.remove_step(stage, 5)


# --- with the engine: the real, committed database -------------------------------------------

def _inbox(factory):
    with factory() as s:
        return s.scalar(select(func.count()).select_from(InboxMessage))


def _default(s):
    return authoring.get_journey(s, defaults.ensure_default_journey(s).id)


def _ledger(factory):
    with factory() as s:
        return s.execute(select(Delivery.user_id, Delivery.item_key, Delivery.channel,
                                Delivery.occurrence)).all()


def test_editing_an_active_journey_never_re_sends_what_was_delivered(world):
    factory, now = world
    first = jobs.run_journeys_tick(factory, now)
    assert first.pushed == 4 and _inbox(factory) == 4
    delivered = set(_ledger(factory))
    with factory() as s:
        assert s.scalar(select(Enrolment.next_check_at)) is not None  # idle until then
    with factory() as s, s.begin():
        journey = _default(s)
        assert journey.status == "active"
        version = journey.version
        stage = next(st for st in journey.stages if st.key == "pw-20")
        # rename the journey, remove a neighbour, rename and widen the stage, rewrite its
        # steps (the reminder and the article now in one step, re-ordered, still due today)
        authoring.update_journey(s, journey, "Pregnancy to three", {"stage": "any"})
        authoring.remove_stage(s, next(st for st in journey.stages if st.key == "pw-19"))
        authoring.update_stage(s, stage, name="Halfway", window_from=19)
        authoring.set_steps(stage, [
            {"push": ["reminder", "article"], "channels": ["inbox"], "delay_days": 0,
             "limit": 1},
            {"push": ["product"], "channels": ["inbox"], "delay_days": 3, "limit": 2}])
        assert journey.version == version + 4
    with factory() as s:  # every edit asks the engine to look at the journey again
        assert s.scalar(select(Enrolment.next_check_at)) is None
    again = jobs.run_journeys_tick(factory, now)
    assert again.processed == 1 and again.pushed == 0 and _inbox(factory) == 4
    # A bigger limit makes more items due: only those new ones go out, nothing twice.
    with factory() as s, s.begin():
        stage = next(st for st in _default(s).stages if st.key == "pw-20")
        authoring.update_step(stage, 0, {"push": ["reminder", "article"],
                                         "channels": ["inbox"], "delay_days": 0, "limit": 5})
    bigger = jobs.run_journeys_tick(factory, now)
    assert bigger.pushed == 2  # "Skin at 20" (its window holds week 20) for mum and dad
    rows = _ledger(factory)
    assert len(rows) == len(set(rows)) == 6 and delivered <= set(rows)
    assert _inbox(factory) == 6
    with factory() as s:
        assert set(s.scalars(select(Delivery.occurrence))) == {f"j{_default(s).id}"}


def test_a_paused_journey_pushes_nothing_until_resumed(world):
    factory, now = world
    with factory() as s, s.begin():
        authoring.pause(_default(s))
    paused = jobs.run_journeys_tick(factory, now)
    assert paused.enrolled == 1 and paused.pushed == 0 and _inbox(factory) == 0
    with factory() as s:
        assert s.scalar(select(Enrolment.stage_key)) is None  # not even advanced
    with factory() as s, s.begin():
        authoring.resume(_default(s))
    resumed = jobs.run_journeys_tick(factory, now)
    assert resumed.pushed == 4 and _inbox(factory) == 4


def test_journey_view_and_list_count_families_and_pushes(world):
    factory, now = world
    jobs.run_journeys_tick(factory, now)
    with factory() as s:
        journey = _default(s)
        view = authoring.journey_view(s, journey)
        assert len(view) == 84 and [v.stage.position for v in view] == list(range(84))
        stage, steps, counts = next(v for v in view if v.stage.key == "pw-20")
        assert counts.families == 1 and counts.delivered == 4 and counts.waiting == 0
        assert steps[2] == {"push": ["product"], "channels": ["inbox"], "delay_days": 3,
                            "limit": 2, "when_interest": None}
        assert next(v for v in view if v.stage.key == "pw-21").counts.families == 0
        (summary,) = authoring.journey_list(s)
        assert (summary.stage_count, summary.active_enrolments) == (84, 1)
        tick = authoring.last_tick(s)
        assert tick is not None and tick.finished_at is not None and tick.created == 4


def test_family_journey_recomputes_the_stage_and_lists_the_ledger(world):
    factory, now = world
    jobs.run_journeys_tick(factory, now)
    with factory() as s:
        mum = s.scalar(select(User).where(User.email == "mum@example.com"))
        assert authoring.find_member(s, mum.member_no.lower()) is mum
        assert authoring.find_member(s, " MUM@example.com ") is mum
        assert authoring.find_member(s, "nobody") is None
        (family,) = authoring.member_families(s, mum)
        child = s.scalar(select(Child))
        # a week later, before any tick: the stage is recomputed, the stored one is older
        view = authoring.family_journey(s, child, now + timedelta(days=7))
        (enrolment,) = view.enrolments
        assert enrolment.stage.key == "pw-21" and enrolment.stored_stage.key == "pw-20"
        assert enrolment.enrolment.stage_entered_on == view.today - timedelta(days=7)
        titles = sorted((d.title, d.recipient.email, d.delivery.channel, d.delivery.status)
                        for d in view.deliveries)
        assert titles[0] == ("Anomaly scan", "dad@example.com", "inbox", "sent")
        assert len(titles) == 4 and all(d.stage.key == "pw-20" for d in view.deliveries)
        assert s.scalar(select(func.count()).select_from(Journey)) == 1
