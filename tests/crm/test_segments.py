"""Segments: every field and operator against hand-built families with exact member sets,
one SELECT for any definition, hostile definitions refused, saved segments."""
from __future__ import annotations

import random
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from content.models import Product
from content.stages import Stage, stage_of
from crm import segments
from crm.models import CustomerScore, Segment
from diary import accounts, families
from diary.errors import Conflict, NotFound, ValidationError
from diary.models import Child, Membership
from journeys.models import Delivery, EmailClick, Journey, MarketingCampaign
from recommender.models import Interaction
from tests.conftest import PASSWORD

# 12:00 in Shanghai on 2026-11-23; 20:00 on 2026-11-22 in Los Angeles.
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _user(s, name, *, interests=(), province=None, city=None, last_seen=None,
          staff=None, active=True):
    user = accounts.create_user(s, f"{name}-{secrets.token_hex(3)}@example.com", PASSWORD,
                                accounts.Profile(display_name=name))
    user.interests = list(interests)
    user.region_province, user.region_city = province, city
    user.last_seen_at = last_seen
    user.staff_role = staff
    user.is_active = active
    s.flush()
    return user


def _family(s, owner, tz="Asia/Shanghai", others=()):
    family = families.create_family(s, owner, "mother", timezone=tz)
    for other in others:
        s.add(Membership(family=family, user=other, role="editor",
                         relationship_to_child="father"))
    s.flush()
    return family


def _child(s, family, name, **dates):
    child = Child(family=family, name=name, **dates)
    s.add(child)
    s.flush()
    return child


def _score(s, user, tier, clv_yuan, p_alive, spent_yuan=None):
    spent = clv_yuan if spent_yuan is None else spent_yuan
    s.add(CustomerScore(user_id=user.id, computed_at=NOW, recency_days=10, frequency=2,
                        monetary_minor=spent * 100, r_score=3, f_score=3, m_score=3,
                        tier=tier, value_group="other", expected_purchases_90d=0.5,
                        p_alive=p_alive, clv_minor=clv_yuan * 100))


def _product(s, sku, category):
    item = Product(key=sku, category=category, status="published")
    s.add(item)
    s.flush()
    return item


def _purchase(s, user, item, days_ago):
    s.add(Interaction(occurred_at=NOW - timedelta(days=days_ago), kind="purchase",
                      user_id=user.id, item_id=item.id, surface="shop",
                      idempotency_key=secrets.token_hex(8)))


def _digest(s, user, days_ago, clicked_days_ago=None, item_key=None):
    delivery = Delivery(user_id=user.id, child_id=0,
                        item_key=item_key or f"digest:{days_ago}", channel="email",
                        occurrence=f"o{days_ago}", status="sent",
                        sent_at=NOW - timedelta(days=days_ago),
                        created_at=NOW - timedelta(days=days_ago))
    s.add(delivery)
    s.flush()
    if clicked_days_ago is not None:
        s.add(EmailClick(delivery_id=delivery.id, user_id=user.id, item_key="article:x",
                         url="/articles/x", clicked_at=NOW - timedelta(days=clicked_days_ago)))


@pytest.fixture()
def people(session):
    """Six customers, one staff member and one closed account, in five families."""
    s = session
    ann = _user(s, "ann", interests=["skin_care", "sleep"], province="Shanghai",
                city="Shanghai", last_seen=NOW - timedelta(days=40))
    bob = _user(s, "bob", interests=["feeding"], province="Beijing",
                last_seen=NOW - timedelta(days=1))
    cat = _user(s, "cat")
    dan = _user(s, "dan", interests=["skin_care"], province="  shanghai ", city="Pudong",
                last_seen=NOW - timedelta(days=10))
    eve = _user(s, "eve", last_seen=NOW - timedelta(hours=2))
    fay = _user(s, "fay")
    fay.interests = ["skinXcare"]  # no such interest: proves "_" is not a LIKE wildcard
    gus = _user(s, "gus", staff="marketer", interests=["skin_care"], province="Shanghai")
    hal = _user(s, "hal", active=False, interests=["skin_care"], province="Shanghai")

    family = _family(s, ann)
    _child(s, family, "Ava", birth_date=date(2025, 11, 30))  # month 11; 12 on 2026-11-30
    _child(s, family, "Bump", due_date=date(2027, 5, 1))  # pregnancy week 17
    _child(s, _family(s, bob), "Bean", due_date=date(2027, 3, 1))  # pregnancy week 26
    # born at 30+0 weeks: 114 days old (month 3), corrected 44 days (week 6)
    _child(s, _family(s, cat), "Cy", birth_date=date(2026, 8, 1),
           gestational_weeks_at_birth=30, gestational_days_at_birth=0)
    # Los Angeles: still 2026-11-22 there, so 11 months old and 12 tomorrow
    _child(s, _family(s, dan, tz="America/Los_Angeles"), "Dee", birth_date=date(2025, 11, 23))
    _child(s, _family(s, eve, others=[fay, gus]), "Eli", birth_date=date(2025, 11, 23))
    _child(s, _family(s, hal), "Hu", birth_date=date(2025, 11, 30))

    _score(s, ann, "high", 800, 0.30, spent_yuan=150)  # spent little, worth much ahead
    _score(s, bob, "medium", 200, 0.90, spent_yuan=300)
    _score(s, dan, "low", 0, 0.05)
    _score(s, gus, "high", 900, 0.10)

    nappies, toys = _product(s, "BJ-N1", "nappies"), _product(s, "BJ-T1", "toys")
    _purchase(s, ann, nappies, 20)
    _purchase(s, bob, toys, 100)
    _purchase(s, gus, nappies, 1)

    _digest(s, ann, 10)
    _digest(s, bob, 3, clicked_days_ago=2)
    _digest(s, ann, 2, clicked_days_ago=1, item_key="campaign:m1")  # not a digest
    s.flush()
    return {u.display_name: u for u in (ann, bob, cat, dan, eve, fay, gus, hal)}


def members(session, people, *conditions):
    ids = set(session.scalars(segments.members(session, {"conditions": list(conditions)},
                                               NOW)))
    names = {u.id: name for name, u in people.items()}
    assert ids <= set(names), "someone outside the hand-built families"
    return {names[i] for i in ids}


def c(field, op, value=None):
    return {"field": field, "op": op, "value": value}


EVERYONE = {"ann", "bob", "cat", "dan", "eve", "fay"}

CASES = [
    # stage (corrected age; the family's own date)
    (c("stage", "is", "month:11"), {"ann", "dan"}),
    (c("stage", "is", "month:12"), {"eve", "fay"}),
    (c("stage", "is", "week:6"), {"cat"}),
    (c("stage", "is", "month:3"), set()),  # Cy is 3 months old, but corrected week 6
    (c("stage", "is", "pregnancy_week:26"), {"bob"}),
    (c("stage", "between", ["pregnancy_week:20", "week:12"]), {"bob", "cat"}),
    (c("stage", "between", ["pregnancy_week:10", "pregnancy_week:20"]), {"ann"}),
    (c("stage", "between", ["month:12", "month:60"]), {"eve", "fay"}),
    (c("stage", "expecting"), {"ann", "bob"}),
    (c("stage", "born"), {"ann", "cat", "dan", "eve", "fay"}),
    # child's age (chronological)
    (c("child_age", "months_between", [11, 11]), {"ann", "dan"}),
    (c("child_age", "months_between", [3, 3]), {"cat"}),
    (c("child_age", "months_between", [12, 24]), {"eve", "fay"}),
    (c("child_age", "months_between", [0, 72]), {"ann", "cat", "dan", "eve", "fay"}),
    (c("child_age", "weeks_between", [16, 16]), {"cat"}),
    (c("child_age", "weeks_between", [0, 15]), set()),
    (c("child_age", "turning_months_within_days", [12, 0]), {"eve", "fay"}),
    (c("child_age", "turning_months_within_days", [12, 1]), {"eve", "fay", "dan"}),
    (c("child_age", "turning_months_within_days", [12, 6]), {"eve", "fay", "dan"}),
    (c("child_age", "turning_months_within_days", [12, 7]), {"eve", "fay", "dan", "ann"}),
    (c("child_age", "turning_months_within_days", [4, 30]), {"cat"}),  # Dec 1
    # interests
    (c("interests", "any_of", ["skin_care", "feeding"]), {"ann", "bob", "dan"}),
    (c("interests", "all_of", ["skin_care", "sleep"]), {"ann"}),
    (c("interests", "none_of", ["skin_care"]), {"bob", "cat", "eve", "fay"}),
    # region
    (c("province", "in", ["Shanghai"]), {"ann", "dan"}),
    (c("province", "in", ["SHANGHAI", "beijing"]), {"ann", "bob", "dan"}),
    (c("province", "not_in", ["Shanghai"]), {"bob", "cat", "eve", "fay"}),
    (c("city", "in", ["pudong"]), {"dan"}),
    (c("city", "not_in", ["Pudong", "Shanghai"]), {"bob", "cat", "eve", "fay"}),
    # value (customer_scores)
    (c("tier", "in", ["high"]), {"ann"}),
    (c("tier", "in", ["medium", "low"]), {"bob", "dan"}),
    (c("clv", "at_least", 200), {"ann", "bob"}),
    (c("clv", "at_least", "200.01"), {"ann"}),
    (c("clv", "below", 200), {"dan"}),
    (c("spent", "at_least", 200), {"bob"}),  # what they spent, not their CLV
    (c("spent", "below", 200), {"ann", "dan"}),
    (c("p_alive", "below", 50), {"ann", "dan"}),
    (c("p_alive", "at_least", 90), {"bob"}),
    # last visit
    (c("last_visit", "within_days", 7), {"bob", "eve"}),
    (c("last_visit", "not_within_days", 30), {"ann", "cat", "fay"}),
    (c("last_visit", "within_days", 10), {"bob", "dan", "eve"}),
    # digest
    (c("digest", "received_within_days", 7), {"bob"}),
    (c("digest", "received_within_days", 14), {"ann", "bob"}),
    (c("digest", "clicked_within_days", 7), {"bob"}),
    (c("digest", "clicked_within_days", 1), set()),
    (c("digest", "not_clicked_within_days", 7), {"ann", "cat", "dan", "eve", "fay"}),
    # purchases by category
    (c("purchased", "any_of", ["nappies"]), {"ann"}),
    (c("purchased", "any_of", ["toys", "nappies"]), {"ann", "bob"}),
    (c("purchased", "none_of", ["nappies", "toys"]), {"cat", "dan", "eve", "fay"}),
    (c("purchased", "any_within_days", 30), {"ann"}),
    (c("purchased", "any_within_days", 200), {"ann", "bob"}),
]


@pytest.mark.parametrize(("condition", "expected"), CASES,
                         ids=[f"{c['field']}-{c['op']}-{i}" for i, (c, _) in enumerate(CASES)])
def test_every_field_and_operator(session, people, condition, expected):
    assert members(session, people, condition) == expected


def test_every_operator_is_exercised():
    used = {(c["field"], c["op"]) for c, _ in CASES}
    assert used == {(f, op) for f, spec in segments.FIELDS.items() for op in spec.ops}


def test_no_conditions_is_every_active_parent(session, people):
    assert members(session, people) == EVERYONE  # never staff, never a closed account


def test_conditions_all_hold_and_child_conditions_hold_for_the_same_child(session, people):
    # the segment: high value, drifting away, child turning one within the month
    assert members(session, people, c("tier", "in", ["high"]), c("p_alive", "below", 50),
                   c("child_age", "turning_months_within_days", [12, 31])) == {"ann"}
    # ann has a child of 11 months and one on the way, but no expected child of 11 months
    assert members(session, people, c("stage", "expecting"),
                   c("child_age", "months_between", [11, 11])) == set()
    assert members(session, people, c("stage", "born"),
                   c("child_age", "months_between", [11, 11])) == {"ann", "dan"}
    assert members(session, people, c("interests", "any_of", ["skin_care"]),
                   c("province", "in", ["shanghai"]), c("last_visit", "within_days", 30)
                   ) == {"dan"}


def test_one_select_for_any_definition(session, people, engine):
    """The time zones are read once; the members are one statement (nothing per row)."""
    statements = []

    def count_it(conn, cursor, statement, *args):
        statements.append(statement)

    every = [c("stage", "between", ["pregnancy_week:4", "month:60"]),
             c("child_age", "turning_months_within_days", [12, 31]),
             c("interests", "none_of", ["sleep"]), c("province", "not_in", ["x"]),
             c("tier", "in", ["high", "low"]), c("clv", "at_least", 0),
             c("p_alive", "below", 100), c("last_visit", "not_within_days", 1),
             c("digest", "not_clicked_within_days", 5),
             c("purchased", "none_of", ["toys"])]
    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count_it)
    try:
        assert segments.count(session, {"conditions": every}, NOW) == 1  # ann
    finally:
        event.remove(bind, "before_cursor_execute", count_it)
    assert len(statements) == 2, statements
    assert "DISTINCT" in statements[0] and "timezone" in statements[0]


def test_count_and_sample(session, people):
    definition = {"conditions": [c("stage", "born")]}
    assert segments.count(session, definition, NOW) == 5
    sample = segments.sample(session, definition, NOW, size=3)
    assert [u.display_name for u in sample] == ["fay", "eve", "dan"]  # newest first


def test_export_rows(session, people):
    rows = list(segments.export_rows(session, {"conditions": [c("tier", "in", ["high",
                                                                               "medium"])]},
                                     NOW, batch=1))
    assert [r["name"] for r in rows] == ["ann", "bob"]
    assert rows[0]["tier"] == "high" and rows[0]["clv"] == "800.00"
    assert rows[0]["p_alive"] == "0.300" and rows[0]["province"] == "Shanghai"
    assert set(rows[0]) == set(segments.EXPORT_COLUMNS)


def test_the_compiled_stage_agrees_with_the_stage_engine(session):
    """Many children (term, preterm, unborn, in two zones): the SQL stage of each is the
    stage `content.stages.stage_of` gives on the family's own date."""
    rng = random.Random(13)
    s = session
    expected: dict[str, set[int]] = {}
    for n in range(160):
        tz = "Asia/Shanghai" if n % 3 else "America/Los_Angeles"
        today = date(2026, 11, 23) if tz == "Asia/Shanghai" else date(2026, 11, 22)
        user = _user(s, f"p{n}")
        family = _family(s, user, tz=tz)
        if n % 4 == 0:
            child = _child(s, family, "u", due_date=today + timedelta(days=rng.randint(-40, 290)))
        else:
            ga = (rng.randint(24, 36), rng.randint(0, 6)) if n % 5 == 0 else (None, None)
            child = _child(s, family, "b", birth_date=today - timedelta(
                days=rng.randint(0, 5 * 366)), gestational_weeks_at_birth=ga[0],
                gestational_days_at_birth=ga[1])
        stage = stage_of(child, today)
        if stage is not None:
            expected.setdefault(stage.key, set()).add(user.id)
    assert len(expected) > 60
    for key in sorted(expected)[::3] + ["month:24", "week:0", "pregnancy_week:42"]:
        got = set(s.scalars(segments.members(s, {"conditions": [c("stage", "is", key)]}, NOW)))
        assert got == expected.get(key, set()), key
    every = set().union(*expected.values())
    got = set(s.scalars(segments.members(
        s, {"conditions": [c("stage", "between", ["pregnancy_week:4", "month:60"])]}, NOW)))
    assert got == every
    assert Stage.parse("month:24") is not None


# --- hostile definitions ---------------------------------------------------------------------

HOSTILE = [
    (None, "The segment's definition is not valid."),
    ([], "The segment's definition is not valid."),
    ({"conditions": "tier"}, "The segment's definition is not valid."),
    ({"conditions": [], "sql": "DROP TABLE users"}, "The segment's definition is not valid."),
    ({"conditions": [c("tier", "in", ["high"])] * 13}, "A segment can have at most 12 conditions."),
    ({"conditions": ["tier"]}, "Condition 1 is not valid."),
    ({"conditions": [{**c("tier", "in", ["high"]), "extra": 1}]}, "Condition 1 is not valid."),
    ({"conditions": [c("users.id", "in", [1])]}, "Condition 1: “users.id” is not a field segments know."),
    ({"conditions": [c("survey_score", "at_least", 8)]}, "Condition 1: “survey_score” is not a field segments know."),
    ({"conditions": [c("tier", "in", ["high"]), c("tier", "like", "%")]}, "Condition 2: “like” cannot be used with this field."),
    ({"conditions": [c("tier", None, ["high"])]}, "Condition 1: “None” cannot be used with this field."),
    ({"conditions": [c("tier", "in", [])]}, "Condition 1: choose at least one of the offered values."),
    ({"conditions": [c("tier", "in", ["high", "gold'); --"])]}, "Condition 1: unknown values: gold'); --."),
    ({"conditions": [c("tier", "in", [1])]}, "Condition 1: choose at least one of the offered values."),
    ({"conditions": [c("stage", "is", "month:61")]}, "Condition 1: choose a stage."),
    ({"conditions": [c("stage", "is", "month:٣")]}, "Condition 1: choose a stage."),
    ({"conditions": [c("stage", "between", ["month:3", "week:2"])]}, "Condition 1: the first stage must come before the last."),
    ({"conditions": [c("stage", "between", ["month:3"])]}, "Condition 1: choose a first and a last stage."),
    ({"conditions": [c("stage", "born", "month:3")]}, "Condition 1: this comparison takes no value."),
    ({"conditions": [c("child_age", "months_between", [5, 2])]}, "Condition 1: the first number must not be larger than the second."),
    ({"conditions": [c("child_age", "months_between", [0, 73])]}, "Condition 1: enter whole numbers from 0 to 72."),
    ({"conditions": [c("child_age", "months_between", [True, 2])]}, "Condition 1: enter whole numbers from 0 to 72."),
    ({"conditions": [c("child_age", "months_between", [1.5, 2])]}, "Condition 1: enter whole numbers from 0 to 72."),
    ({"conditions": [c("child_age", "turning_months_within_days", [0, 5])]}, "Condition 1: enter whole numbers from 1 to 72."),
    ({"conditions": [c("child_age", "weeks_between", "1-2")]}, "Condition 1: enter two whole numbers."),
    ({"conditions": [c("last_visit", "within_days", "9" * 40)]}, "Condition 1: enter whole numbers from 1 to 3650."),
    ({"conditions": [c("last_visit", "within_days", -1)]}, "Condition 1: enter whole numbers from 1 to 3650."),
    ({"conditions": [c("clv", "at_least", float("nan"))]}, "Condition 1: enter a number."),
    ({"conditions": [c("clv", "at_least", "1e999")]}, "Condition 1: enter a number."),
    ({"conditions": [c("clv", "at_least", -5)]}, "Condition 1: enter an amount from 0 to 10000000."),
    ({"conditions": [c("p_alive", "below", 101)]}, "Condition 1: enter a percentage from 0 to 100."),
    ({"conditions": [c("province", "in", [])]}, "Condition 1: enter one to 20 names, separated by commas, each up to 80 characters."),
    ({"conditions": [c("province", "in", ["x" * 81])]}, "Condition 1: enter one to 20 names, separated by commas, each up to 80 characters."),
    ({"conditions": [c("province", "in", ["a\x00b"])]}, "Condition 1: enter one to 20 names, separated by commas, each up to 80 characters."),
    ({"conditions": [c("province", "in", [{"$ne": 1}])]}, "Condition 1: enter one to 20 names, separated by commas, each up to 80 characters."),
]


@pytest.mark.parametrize(("definition", "message"), HOSTILE)
def test_hostile_definitions_are_refused_with_a_clear_message(session, definition, message):
    with pytest.raises(segments.SegmentError) as raised:
        segments.members(session, definition, NOW)
    assert str(raised.value) == message
    assert raised.value.field == "conditions"


def test_values_are_normalised():
    clean = segments.validate({"conditions": [
        c("tier", "in", ["low", "high", "low"]), c("province", "in", " Shanghai ,  Bei  jing,"),
        c("last_visit", "within_days", " 30 "), c("clv", "at_least", "99.5"),
        c("stage", "born", ""), c("interests", "any_of", "sleep")]})
    assert clean == {"conditions": [
        c("tier", "in", ["high", "low"]), c("province", "in", ["Shanghai", "Bei jing"]),
        c("last_visit", "within_days", 30), c("clv", "at_least", 99.5),
        c("stage", "born", None), c("interests", "any_of", ["sleep"])]}


# --- saved segments --------------------------------------------------------------------------

def test_save_edit_and_delete(session, people):
    staff = people["gus"]
    definition = {"conditions": [c("tier", "in", ["high"])]}
    segment = segments.create(session, staff, "  High   value ", "Best customers", definition)
    assert (segment.name, segment.version, segment.created_by_id) == ("High value", 1, staff.id)
    with pytest.raises(Conflict):
        segments.create(session, staff, "high VALUE", "", definition)
    with pytest.raises(ValidationError) as raised:
        segments.create(session, staff, "   ", "", definition)
    assert raised.value.field == "name"
    with pytest.raises(segments.SegmentError):
        segments.create(session, staff, "Bad", "", {"conditions": [c("tier", "in", ["gold"])]})
    segments.update(session, segment, staff, 1, "High value", "Best customers", definition)
    assert segment.version == 1  # nothing changed, no new version
    segments.update(session, segment, staff, 1, "High value", "Best",
                    {"conditions": [c("tier", "in", ["high", "medium"])]})
    assert segment.version == 2
    with pytest.raises(Conflict):  # a form opened at version 1
        segments.update(session, segment, staff, 1, "Other", "", definition)
    assert set(session.scalars(segments.audience(session, segment.id, NOW))) == {
        people["ann"].id, people["bob"].id}
    segments.delete(session, segment, version=2)
    assert session.get(Segment, segment.id) is None
    with pytest.raises(NotFound):
        segments.audience(session, segment.id, NOW)
    with pytest.raises(NotFound):
        segments.get(session, 2**40)


def test_a_segment_in_use_cannot_be_deleted(session, people):
    staff = people["gus"]
    segment = segments.create(session, staff, "Drifting", "", {"conditions": [
        c("p_alive", "below", 50)]})
    session.add(MarketingCampaign(name="Come back", segment_id=segment.id, trigger="once",
                                  message_key="come-back", channels=["inbox"],
                                  holdout_share=0.1, goal="visit", goal_days=7))
    session.add(Journey(slug="drifters", name="Drifters", entry_rule={"segment": segment.id}))
    session.flush()
    with pytest.raises(Conflict) as raised:
        segments.delete(session, segment)
    assert str(raised.value) == ("This segment is the audience of Come back, Drifters. "
                                 "Choose another audience there first.")
    assert session.get(Segment, segment.id) is not None
