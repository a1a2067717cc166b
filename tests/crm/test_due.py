"""Due lists: a child's next stage and nappy size within 14 days, and the follow-up status."""
from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from content.models import ContentItem
from crm import due
from crm.models import DueFollowUp
from diary import growth
from diary.errors import NotFound, ValidationError
from diary.models import Entry, Measurement, Membership
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")  # 12:00 on Monday 23 November, Shanghai
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
LADDER = (("NB", 2, 5), ("S", 4, 8), ("M", 6, 11), ("L", 9, 14), ("XL", 12, 17))


@pytest.fixture
def nappies(session):
    for code, low, high in LADDER:
        session.add(ContentItem(kind="product", key=f"nappy-{code}-{secrets.token_hex(2)}",
                                status="published", active=True, category="nappies",
                                size={"system": "nappy", "code": code, "min_kg": low,
                                      "max_kg": high}))
    # a wider S that is not on sale changes nothing; a draft neither
    session.add(ContentItem(kind="product", key="nappy-S-old", status="published",
                            active=False, size={"system": "nappy", "code": "S", "min_kg": 3,
                                                "max_kg": 9}))
    session.add(ContentItem(kind="product", key="nappy-M-draft", status="draft",
                            size={"system": "nappy", "code": "M", "min_kg": 5, "max_kg": 12}))
    session.flush()


def weigh(session, child, on_local: date, kg: float):
    entry = Entry(child_id=child.id, kind="measurement",
                  occurred_at=datetime(on_local.year, on_local.month, on_local.day, 2,
                                       tzinfo=UTC))
    entry.measurement = Measurement(weight_kg=kg)
    session.add(entry)
    session.flush()


def test_the_ladder_is_the_live_products_widest_range_smallest_first(session, nappies):
    ladder = due.nappy_ladder(session, NOW)
    assert [(b.code, b.min_kg, b.max_kg) for b in ladder] == [
        (c, float(lo), float(hi)) for c, lo, hi in LADDER]
    assert due.size_index(ladder, 5.0) == 0 and due.size_index(ladder, 5.01) == 1
    assert due.size_index(ladder, 17.0) == 4 and due.size_index(ladder, 17.5) is None


def test_stage_changes_within_fourteen_days(session, make_family):
    # expecting: week 20 starts today (due date in 140 days) → week 21 on 30 November
    mum, bump = make_family(born=False, due_date=TODAY + timedelta(days=140))
    # born 30 May: month 5 now, month 6 on 30 November
    dad, baby = make_family(birth_date=date(2026, 5, 30))
    # born 20 June: month 5 until 20 December, 27 days away: not due
    _late, _later = make_family(birth_date=date(2026, 6, 20))
    assert due.next_stage(bump, TODAY) == (date(2026, 11, 30), "pregnancy_week:20",
                                           "pregnancy_week:21")
    assert due.next_stage(baby, TODAY) == (date(2026, 11, 30), "month:5", "month:6")
    assert due.next_stage(_later, TODAY) is None
    assert due.next_stage(_later, TODAY, days=27) == (date(2026, 12, 20), "month:5", "month:6")
    found = [(d.user_id, d.child_id, d.kind, d.due_on, d.current, d.detail, d.status)
             for d in due.due_list(session, NOW, kind="stage")]
    assert (mum.id, bump.id, "stage", date(2026, 11, 30), "pregnancy_week:20",
            "pregnancy_week:21", "open") in found
    assert (dad.id, baby.id, "stage", date(2026, 11, 30), "month:5", "month:6", "open") in found
    assert _later.id not in {row[1] for row in found}


def test_the_next_nappy_size_from_the_latest_weight_on_her_centile(session, make_family,
                                                                    nappies):
    # a girl of 240 days weighed yesterday on the WHO median: the median passes S's 8 kg at
    # 249 days (8.0007 kg; WHO: 7.9 kg at 8 months, 8.2 at 9), which is 2 December
    born = TODAY - timedelta(days=240)
    user, child = make_family(birth_date=born, sex="female")
    weigh(session, child, TODAY - timedelta(days=60), 6.0)  # an older weight is not used
    weigh(session, child, TODAY - timedelta(days=1), growth.value_at("wfa", "female", 239, 0))
    ladder = due.nappy_ladder(session, NOW)
    assert born + timedelta(days=249) == date(2026, 12, 2)
    [nappy] = [d for d in due.due_list(session, NOW, kind="nappy") if d.child_id == child.id]
    assert (nappy.user_id, nappy.due_on, nappy.current, nappy.detail) == (
        user.id, date(2026, 12, 2), "S", "M")
    # lighter on the same day: far from 8 kg, nothing due; a weight past XL: nothing to offer
    assert due.next_size(child, ladder, TODAY, 6.5, TODAY) is None
    assert due.next_size(child, ladder, TODAY, 17.2, TODAY) is None
    # no sizes on sale, no nappy dues
    assert due.next_size(child, [], TODAY, 7.99, TODAY) is None


def test_without_a_weight_the_birth_weight_is_projected_and_the_sex_may_be_unknown(
        session, make_family, nappies):
    # a 3.4 kg newborn, born 10 days ago, whose sex the record lost (registration asks for
    # it; older records may lack it): NB (≤ 5 kg) now, S later
    user, child = make_family(birth_date=TODAY - timedelta(days=10), birth_weight_kg=3.4)
    child.sex = None
    session.flush()
    ladder = due.nappy_ladder(session, NOW)
    girl = due.projected_weight(type(child)(birth_date=child.birth_date, sex="female"),
                                child.birth_date, 3.4, TODAY)
    boy = due.projected_weight(type(child)(birth_date=child.birth_date, sex="male"),
                               child.birth_date, 3.4, TODAY)
    assert due.projected_weight(child, child.birth_date, 3.4, TODAY) == pytest.approx(
        (girl + boy) / 2)
    result = due.next_size(child, ladder, child.birth_date, 3.4, TODAY, days=60)
    assert result is not None and result[1:] == ("NB", "S")
    listed = [d for d in due.due_list(session, NOW, days=60, kind="nappy")
              if d.child_id == child.id]
    assert [(d.due_on, d.detail) for d in listed] == [(result[0], "S")]
    # expecting: no weight, no nappy
    _mum, bump = make_family(born=False)
    assert not [d for d in due.due_list(session, NOW, days=60, kind="nappy")
                if d.child_id == bump.id]


def test_customers_are_owners_and_editors_not_viewers_or_staff(session, make_family):
    owner, child = make_family(birth_date=date(2026, 5, 30))
    editor = make_family()[0]
    viewer = make_family()[0]
    staff = make_staff(session, "marketer")
    for user, role in ((editor, "editor"), (viewer, "viewer"), (staff, "editor")):
        session.add(Membership(family_id=child.family_id, user_id=user.id, role=role,
                               relationship_to_child="other"))
    session.flush()
    people = {d.user_id for d in due.due_list(session, NOW) if d.child_id == child.id}
    assert people == {owner.id, editor.id}


def test_staff_set_a_status_once_per_entry_and_only_for_what_is_listed(session, make_family):
    user, child = make_family(birth_date=date(2026, 5, 30))
    other, _ = make_family()
    staff = make_staff(session, "analyst")
    due_on = date(2026, 11, 30)
    row = due.set_status(session, staff, user.id, child.id, "stage", due_on, "contacted", NOW)
    assert (row.status, row.detail, row.updated_by_id, row.updated_at) == (
        "contacted", "month:6", staff.id, NOW)
    due.set_status(session, staff, user.id, child.id, "stage", due_on, "converted", NOW)
    assert session.scalar(select(func.count()).select_from(DueFollowUp)
                          .where(DueFollowUp.child_id == child.id)) == 1
    [listed] = [d for d in due.due_list(session, NOW) if d.child_id == child.id]
    assert listed.status == "converted"
    attempts = [
        (staff, user.id, child.id, "stage", due_on, "won"),  # not a status
        (staff, user.id, child.id, "stage", due_on, ""),
        (staff, user.id, child.id, "teeth", due_on, "open"),  # not a kind
        (user, user.id, child.id, "stage", due_on, "open"),  # a parent
    ]
    for who, uid, cid, kind, on, status in attempts:
        with pytest.raises(ValidationError):
            due.set_status(session, who, uid, cid, kind, on, status, NOW)
    not_listed = [
        (other.id, child.id, "stage", due_on),  # another family's parent
        (user.id, child.id, "stage", due_on + timedelta(days=1)),  # another date
        (user.id, child.id, "nappy", due_on),  # nothing due of that kind
        (user.id, 10**9, "stage", due_on),  # no such child
    ]
    for uid, cid, kind, on in not_listed:
        with pytest.raises(NotFound):
            due.set_status(session, staff, uid, cid, kind, on, "contacted", NOW)
    with pytest.raises(ValidationError):
        due.due_list(session, NOW, kind="teeth")
