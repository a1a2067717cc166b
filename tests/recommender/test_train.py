"""Training reads the log's window in chunks, labels impressions by what followed them, and
learns its ranker from impressions only when there are enough of them."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from content.models import ContentItem
from content.stages import Stage
from diary.entries import create_entry
from diary.entry_kinds import EntryInput, MeasurementInput
from recommender import catalogue, log, train
from recommender.simulate import World, to_log

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
DAY = 86400.0


@pytest.fixture()
def products(session):
    items = [ContentItem(kind="product", key=f"BJ-P-{n}", window_unit="month", window_from=3,
                         window_to=6, price_minor=100, currency="CNY", status="published")
             for n in range(3)]
    session.add_all(items)
    session.flush()
    return items


@pytest.mark.clock_at("2026-11-23T04:00")
def test_the_window_is_read_in_chunks(session, products, make_family):
    user, child = make_family(birth_date=date(2026, 7, 10))
    kinds = ["impression", "click", "save", "purchase", "dismiss"]
    for n, kind in enumerate(kinds):
        log.record(session, log.Event(kind=kind, item_id=products[n % 3].id,
                                      surface="child_page", idempotency_key=f"k{n}",
                                      user_id=user.id, child_id=child.id, stage="month:4",
                                      request_id="r1" if n < 2 else None,
                                      occurred_at=NOW - timedelta(days=10 - n)))
    log.record(session, log.Event(kind="click", item_id=products[0].id, surface="email",
                                  idempotency_key="old", user_id=user.id,
                                  occurred_at=NOW - timedelta(days=400)))  # outside
    create_entry(session, child, user, EntryInput(
        kind="measurement", occurred_at=NOW - timedelta(days=5),
        measurement=MeasurementInput(weight_kg=6.8)))
    user.interests = ["sleep", "play"]
    seen = []
    got = train.read_log(session, NOW - timedelta(days=365), NOW, chunk=2,
                         progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert [train.KINDS[k] for k in got.kind] == kinds
    assert got.item.tolist() == [products[n % 3].id for n in range(5)]
    assert got.child.tolist() == [child.id] * 5 and got.profile.tolist() == [child.id] * 5
    assert got.stage.tolist() == [catalogue.stage_index(Stage("month", 4))] * 5
    assert got.request.tolist() == [0, 0, -1, -1, -1]
    assert got.time.tolist() == [(NOW - timedelta(days=10 - n)).timestamp() for n in range(5)]
    people = train.read_people(session, got, NOW)
    assert people.interests == {user.id: ("sleep", "play")}
    assert people.weight_at(child.id, NOW.timestamp()) == 6.8
    assert np.isnan(people.weight_at(child.id, (NOW - timedelta(days=6)).timestamp()))


def test_an_impression_counts_as_taken_up_only_by_what_followed_within_a_day():
    t = NOW.timestamp()
    got = train.Log.build(
        user=[1, 1, 1, 1, 2, 1, 1],
        child=[5, 5, 5, 5, 6, 5, 5],
        item=[10, 10, 11, 12, 12, 13, 13],
        kind=["impression", "click", "impression", "impression", "click", "click",
              "impression"],
        time=[t, t + 100, t, t, t + 50, t - 10, t],
        stage=[None] * 7, request=[None] * 7)
    shown = np.flatnonzero(got.kind == train.IMPRESSION)
    by_item = dict(zip(got.item[shown].tolist(), train._labels(got, shown).tolist(),
                       strict=True))
    # 10: clicked 100 s later; 11: never; 12: clicked by another family; 13: before
    assert by_item == {10: 1.0, 11: 0.0, 12: 0.0, 13: 0.0}
    late = train.Log.build(user=[1, 1], child=[5, 5], item=[10, 10],
                           kind=["impression", "purchase"], time=[t, t + 2 * DAY],
                           stage=[None] * 2, request=[None] * 2)
    assert train._labels(late, np.array([0])).tolist() == [0.0]  # two days later: not it


def test_an_empty_log_trains_the_default_model():
    products = catalogue.from_pack()
    model = train.train(products, train.Log.empty(), now=NOW)
    assert model.ranker.source == "default" and model.metrics["events"] == 0
    assert model.n_items == 99 and not model.components.ease.any()
    assert model.window_to == NOW


def test_a_simulated_log_teaches_the_ranker_from_impressions():
    products = catalogue.from_pack()
    world = World(products, seed=8, start=date(2026, 2, 1), days=60)
    families = world.families(150)
    got, people = to_log(world, families, world.simulate(families))
    model = train.train(products, got, people, now=NOW)
    assert model.ranker.source == "impressions"
    assert model.metrics["ranker_pair_accuracy"] > 0.6  # on requests it never saw
    assert model.metrics["impressions"] == int((got.kind == train.IMPRESSION).sum())
    # a handful of impressions is not enough to learn from
    few = np.flatnonzero(got.kind != train.IMPRESSION)
    small = train.Log(*(getattr(got, name)[few] for name in
                        ("user", "child", "item", "kind", "time", "stage", "request")))
    assert train.train(products, small, people, now=NOW).ranker.source == "default"


def test_every_stage_key_fits_the_log(session, products):
    """"pregnancy_week:40" is 17 characters: PostgreSQL refused it when the column had 16."""
    longest = max((s.key for s in catalogue.STAGES), key=len)
    assert len(longest) == 17
    log.record(session, log.Event(kind="click", item_id=products[0].id, surface="child_page",
                                  idempotency_key="long", stage=longest, occurred_at=NOW))
    got = train.read_log(session, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert catalogue.STAGES[got.stage[0]].key == longest
