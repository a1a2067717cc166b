"""Simulated families behave believably, the same seed gives the same histories, and they
are written through the interaction log exactly once."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from diary import passwords
from diary.models import Child, Entry, User
from recommender import catalogue, simulate
from recommender.catalogue import stage_index
from recommender.models import Interaction
from recommender.simulate import World


@pytest.fixture(scope="module")
def products():
    return catalogue.from_pack()


@pytest.fixture(scope="module")
def run(products):
    world = World(products, seed=4, start=date(2026, 1, 5), days=120)
    families = world.families(250)
    return world, families, list(world.simulate(families))


def test_the_same_seed_gives_the_same_families_and_events(products):
    def events(seed):
        world = World(products, seed=seed, start=date(2026, 1, 5), days=30)
        return [(e.family, e.kind, e.item, e.at, e.surface) for e in
                world.simulate(world.families(20))]
    assert events(9) == events(9)
    assert events(9) != events(10)


def test_families_at_every_stage_from_pregnancy_to_five(run):
    world, families, _ = run
    stages = [f.stage(world.start) for f in families]
    units = Counter(s.unit for s in stages if s)
    assert units["pregnancy_week"] > 20 and units["week"] > 5 and units["month"] > 100
    months = [s.value for s in stages if s and s.unit == "month"]
    assert min(months) <= 4 and max(months) > 36  # toddlers and older children too
    assert min(s.value for s in stages if s and s.unit == "pregnancy_week") <= 8


def test_nappies_move_up_with_the_weight(run):
    world, families, events = run
    by_family = defaultdict(list)
    for e in events:
        if e.kind == "purchase" and world.nappy[e.item]:
            by_family[e.family].append(e)
    assert len(by_family) > 50
    moved_up = 0
    for index, bought in by_family.items():
        family = families[index]
        for e in bought:  # every nappy bought fits the child's weight that day
            weight = family.weight_kg(e.at.date())
            assert world.size_min[e.item] <= weight <= world.size_max[e.item]
        ranks = [products_rank(world, e.item) for e in bought]
        assert ranks == sorted(ranks), index  # never back down a size
        moved_up += ranks[-1] > ranks[0]
    assert moved_up > 10


def products_rank(world, item):
    return world.catalogue.products[item].size.rank


def test_consumables_are_bought_again_one_offs_never(run):
    world, _, events = run
    counts = Counter((e.family, e.item) for e in events if e.kind == "purchase")
    again = [item for (_, item), n in counts.items() if n > 1]
    assert again and all(world.consumable[item] for item in again)
    assert len({world.catalogue.products[i].category for i in again}) >= 3


def test_seasonal_items_are_wanted_in_their_season(run):
    world, families, _ = run
    expecting = next(f for f in families if not f.born_by(date(2026, 8, 1)))
    s = stage_index(expecting.stage(date(2026, 1, 5)))
    gain = world.utility(expecting, date(2026, 7, 1), s) - world.utility(
        expecting, date(2026, 1, 1), s)
    keys = [p.key for p in world.catalogue.products]
    assert gain[keys.index("BJ-SKIN-004")] == pytest.approx(2.4)  # sunscreen: summer
    assert gain[keys.index("CN-CLO-SNOWSUIT")] == pytest.approx(-2.4)  # winter suit
    assert gain[keys.index("BJ-BATH-001")] == pytest.approx(0.0)


def test_people_who_ignore_email_never_click_it(run):
    world, families, events = run
    clicked = Counter((e.family, e.kind) for e in events if e.surface == "email")
    ignoring = [f.index for f in families if f.ignores_email]
    assert ignoring and all(clicked[(f, "click")] == 0 for f in ignoring)
    assert sum(clicked[(f, "impression")] for f in ignoring) > 100  # they do get the email
    assert sum(clicked[(f.index, "click")] for f in families if not f.ignores_email) > 20


def test_written_through_the_log_once(session, tmp_path):
    from content import packs
    from diary.photos import PhotoStore

    packs.import_pack(session, packs.DEFAULT_PACK, None, PhotoStore(tmp_path))
    live = catalogue.load(session, datetime(2026, 3, 1, tzinfo=UTC))
    world = World(live, seed=2, start=date(2026, 1, 5), days=40)
    crowd = world.families(6)
    expected = sum(1 for f in crowd for _ in world.simulate_family(f))
    done = []
    written = simulate.write(session, world, crowd, progress=done.append)
    assert (written.families, written.created, written.events, written.logged) == (
        6, 6, expected, expected)
    assert done == [1] * 6
    assert session.scalar(select(func.count()).select_from(Interaction)) == expected
    users = session.scalars(select(User).where(User.email.like("%@simulated.example"))
                            .order_by(User.email)).all()
    assert [u.email for u in users] == [simulate.email_of(2, f.index) for f in crowd]
    assert not passwords.verify_password(users[0].password_hash, "")  # nobody signs in
    assert [u.interests for u in users] == [list(f.declared) for f in crowd]
    children = session.scalars(select(Child).where(Child.name.like("Baby %"))
                               .order_by(Child.id)).all()
    assert [(c.due_date, c.birth_date) for c in children] == [
        (f.due_date, f.birth_date) for f in crowd]
    weights = session.scalar(select(func.count()).select_from(Entry)
                             .where(Entry.kind == "measurement"))
    assert weights == sum(1 for f in crowd for d in world.weighing_days()
                          if f.weight_kg(d) is not None)
    again = simulate.write(session, world, crowd)
    assert (again.created, again.logged) == (0, 0)  # the same seed adds nothing twice
    assert set(session.scalars(select(Interaction.kind).distinct())) <= {
        "impression", "click", "save", "dismiss", "add_to_cart", "purchase"}
    ids = {p.id for p in live.products}
    assert set(session.scalars(select(Interaction.item_id).distinct())) <= ids
    # What families did with a list counts for that list's ordering (the analyst page
    # reports click-through per model version); the shop's purchases belong to no list.
    versions = dict(session.execute(select(Interaction.surface, func.count(
        Interaction.model_version.distinct())).group_by(Interaction.surface)).all())
    assert versions.pop("shop", 0) == 0 and set(versions.values()) == {1}
    assert set(session.scalars(select(Interaction.model_version).where(
        Interaction.kind == "click").distinct())) == {simulate.SIM_ORDER}
