"""Suggestions for a child from the database: the rules always hold, the control ranks by
stage popularity, and every suggestion says why (next size, buy again, because you saved …)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from content.sizes import Size
from diary.entries import create_entry
from diary.entry_kinds import EntryInput, MeasurementInput
from recommender import catalogue, log, reasons, serve, train
from recommender.serve import Past, Request

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
BORN = date(2026, 7, 10)  # 4 months old on TODAY: stage month:4
STAGE = "month:4"
DAY = 86400.0


def make_product(session, key, category, low=3, high=12, unit="month", publish=True,
                 text="A product", **extra):
    data = ItemInput(kind="product", key=key, category=category, window_unit=unit,
                     window_from=low, window_to=high, price_minor=5000, currency="CNY",
                     translations={"en": TextInput(text, "Useful for babies."),
                                   "zh_CN": TextInput(text + "（中文）", "适合宝宝。")},
                     **extra)
    item = authoring.create(session, data, None)
    if publish:
        workflow.publish_reviewed(session, item)
    return item


@pytest.fixture()
def shop(session):
    """Products for a 4-month-old, and some that must never be suggested to one."""
    p = {}
    p["nappy_s"] = make_product(session, "BJ-NAPPY-S", "nappies", 3, 6, consumable=True,
                                size=Size("nappy", "S", 4, 8), text="Nappies S")
    p["nappy_m"] = make_product(session, "BJ-NAPPY-M", "nappies", 3, 9, consumable=True,
                                size=Size("nappy", "M", 6, 11), text="Nappies M")
    p["nappy_l"] = make_product(session, "BJ-NAPPY-L", "nappies", 3, 12, consumable=True,
                                size=Size("nappy", "L", 9, 14), text="Nappies L")
    for name in ("a", "b", "c", "d"):
        p[f"toy_{name}"] = make_product(session, f"BJ-TOY-{name.upper()}", "toys",
                                        interests=["play"], text=f"Toy {name}")
    p["tub"] = make_product(session, "BJ-BATH-TUB", "bath", text="Bath tub")
    p["sleep_bag"] = make_product(session, "BJ-SLEEP-BAG", "sleep", interests=["sleep"],
                                  text="Sleeping bag")
    p["pillow"] = make_product(session, "BJ-PREG-PILLOW", "maternity", 20, 40,
                               unit="pregnancy_week", text="Pregnancy pillow")
    p["old_toy"] = make_product(session, "BJ-TOY-TODDLER", "toys", 18, 36, text="Puzzle")
    p["inactive"] = make_product(session, "BJ-TOY-GONE", "toys", active=False, text="Gone")
    p["draft"] = make_product(session, "BJ-TOY-DRAFT", "toys", publish=False, text="Draft")
    p["later"] = make_product(session, "BJ-TOY-LATER", "toys", text="Later",
                              publish_at=NOW + timedelta(days=3))
    session.flush()
    return p


def others_log(shop):
    """Other families: at month 4 most go for toy b, then toy c; at month 8 (far from month
    4, so no stage popularity leaks) everyone who saved toy a bought the sleeping bag."""
    rows = []
    t0 = NOW.timestamp() - 60 * DAY
    for family in range(1, 7):
        rows.append((family, shop["toy_b"].id, "click", t0 + family, "month:4"))
        if family <= 3:
            rows.append((family, shop["toy_c"].id, "click", t0 + family + 1, "month:4"))
    for family in range(10, 16):
        rows.append((family, shop["toy_a"].id, "save", t0 + family, "month:8"))
        rows.append((family, shop["sleep_bag"].id, "purchase", t0 + family + 1, "month:8"))
    return train.Log.build(user=[r[0] for r in rows], child=[r[0] for r in rows],
                           item=[r[1] for r in rows], kind=[r[2] for r in rows],
                           time=[r[3] for r in rows], stage=[r[4] for r in rows],
                           request=[None] * len(rows))


@pytest.fixture()
def model(session, shop):
    return train.train(catalogue.load(session, NOW), others_log(shop), now=NOW, version="t1")


@pytest.fixture()
def family(make_family):
    return make_family(birth_date=BORN)


def did(session, user, child, product, kind, days_ago=1.0, **extra):
    at = NOW - timedelta(days=days_ago)
    log.record(session, log.Event(kind=kind, item_id=product.id, surface="child_page",
                                  idempotency_key=log.key_for(user.id, product.id, kind, at),
                                  user_id=user.id, child_id=child.id if child else None,
                                  occurred_at=at, **extra))


def keys(suggestions):
    return [s.key for s in suggestions]


NEVER = {"BJ-PREG-PILLOW", "BJ-TOY-TODDLER", "BJ-TOY-GONE", "BJ-TOY-DRAFT", "BJ-TOY-LATER"}


@pytest.mark.parametrize("mode", ["model", "control"])
def test_the_rules_hold_in_both_modes(session, shop, model, family, mode):
    user, child = family
    did(session, user, child, shop["toy_d"], "dismiss")
    did(session, user, child, shop["tub"], "purchase")  # a one-off: never again
    did(session, user, child, shop["nappy_s"], "purchase", days_ago=40)  # a consumable
    shown = serve.suggest(session, model, user, child, TODAY, k=20, mode=mode)
    assert NEVER.isdisjoint(keys(shown))
    assert "BJ-TOY-D" not in keys(shown) and "BJ-BATH-TUB" not in keys(shown)
    assert "BJ-NAPPY-S" in keys(shown)
    assert [s.position for s in shown] == list(range(len(shown)))
    assert sum(s.category == "toys" for s in shown) == 3  # at most 3 of one category
    capped = serve.suggest(session, model, user, child, TODAY, k=20, mode=mode, per_category=1)
    assert sorted(s.category for s in capped) == ["nappies", "sleep", "toys"]
    assert len(serve.suggest(session, model, user, child, TODAY, k=2, mode=mode)) == 2


def test_the_control_ranks_by_stage_popularity(session, shop, model, family):
    user, child = family
    did(session, user, child, shop["toy_a"], "save")  # personal history changes nothing
    shown = serve.suggest(session, model, user, child, TODAY, k=3, mode="control")
    assert keys(shown) == ["BJ-TOY-B", "BJ-TOY-C", "BJ-SLEEP-BAG"]
    assert {s.model_version for s in shown} == {"control"}
    assert {s.reason for s in shown} == {reasons.Reason("popular_at_stage", {"stage": STAGE})}
    assert {s.mode for s in shown} == {"control"}
    assert shown[0].score > shown[1].score > shown[2].score


def test_because_you_saved_and_saved_earlier(session, shop, model, family):
    user, child = family
    did(session, user, child, shop["toy_a"], "save")
    shown = {s.key: s for s in serve.suggest(session, model, user, child, TODAY, k=20)}
    assert shown["BJ-SLEEP-BAG"].reason == reasons.Reason("because_saved",
                                                         {"item": shop["toy_a"].id})
    assert shown["BJ-TOY-A"].reason.code == "saved_earlier"
    assert {s.model_version for s in shown.values()} == {model.version}
    text = reasons.describe(shown["BJ-SLEEP-BAG"].reason, "en",
                            reasons.titles(session, [shop["toy_a"].id], "en"))
    assert text == "Because you saved Toy a"


def test_next_nappy_size_for_the_latest_weight_and_buying_again(session, shop, model, family):
    user, child = family
    did(session, user, child, shop["nappy_s"], "purchase", days_ago=40)
    create_entry(session, child, user, EntryInput(
        kind="measurement", occurred_at=NOW - timedelta(days=2),
        measurement=MeasurementInput(weight_kg=7.5)))
    shown = {s.key: s for s in serve.suggest(session, model, user, child, TODAY, k=20)}
    assert shown["BJ-NAPPY-M"].reason == reasons.Reason("next_size",
                                                       {"size": "M", "system": "nappy"})
    assert shown["BJ-NAPPY-S"].reason == reasons.Reason("buy_again",
                                                       {"item": shop["nappy_s"].id})
    assert shown["BJ-NAPPY-L"].reason.code != "next_size"  # L does not fit 7.5 kg yet
    assert serve.latest_weight(session, child.id) == 7.5


def test_a_new_family_gets_stage_popularity_and_its_interests(session, shop, model,
                                                              make_family):
    user, child = make_family(birth_date=BORN)
    user.interests = ["sleep"]
    shown = serve.suggest(session, model, user, child, TODAY, k=20)
    by_key = {s.key: s for s in shown}
    assert by_key["BJ-SLEEP-BAG"].reason == reasons.Reason("matches_interest",
                                                          {"interest": "sleep"})
    assert by_key["BJ-TOY-B"].reason == reasons.Reason("popular_at_stage", {"stage": STAGE})
    assert keys(shown).index("BJ-TOY-B") < keys(shown).index("BJ-TOY-C")


def test_a_product_added_after_training_is_suggested_as_new(session, shop, model, family):
    user, child = family
    make_product(session, "BJ-TOY-NEW", "toys", text="Toy new")
    shown = {s.key: s for s in serve.suggest(session, model, user, child, TODAY, k=20,
                                             per_category=20)}
    assert shown["BJ-TOY-NEW"].reason == reasons.Reason("new_in_shop", {"stage": STAGE})


def test_before_any_model_the_catalogue_order_and_the_rules(session, shop, family):
    user, child = family
    did(session, user, child, shop["toy_d"], "dismiss")
    shown = serve.suggest(session, None, user, child, TODAY, k=20)
    assert {s.model_version for s in shown} == {"none"} and NEVER.isdisjoint(keys(shown))
    assert keys(shown)[0] == "BJ-NAPPY-S"  # the narrowest window first
    assert "BJ-TOY-D" not in keys(shown)


def test_history_is_the_childs_and_the_persons_own(session, shop, family, make_family):
    user, child = family
    other_user, other_child = make_family(birth_date=BORN)
    did(session, user, child, shop["toy_a"], "click", days_ago=3)
    did(session, user, child, shop["toy_b"], "impression", days_ago=2)  # not history
    did(session, user, None, shop["tub"], "purchase", days_ago=2)  # the shop: no child
    did(session, other_user, other_child, shop["toy_c"], "save")  # another family's
    did(session, user, other_child, shop["toy_d"], "dismiss")  # a dismissal anywhere counts
    did(session, user, other_child, shop["nappy_m"], "click")  # a sibling's click does not
    past = serve.history(session, user.id, child.id)
    assert [(p.item_id, p.kind) for p in past] == [
        (shop["toy_a"].id, "click"), (shop["tub"].id, "purchase"),
        (shop["toy_d"].id, "dismiss")]


def test_nothing_for_a_child_past_five_and_bad_arguments(session, shop, model, make_family):
    user, child = make_family(birth_date=date(2021, 6, 1))  # five and a half
    assert serve.suggest(session, model, user, child, TODAY) == []
    with pytest.raises(ValueError, match="unknown mode"):
        serve.suggest(session, model, user, child, TODAY, mode="random")
    with pytest.raises(ValueError, match="unknown surface"):
        serve.suggest(session, model, user, child, TODAY, surface="billboard")


def test_rank_keeps_the_window_rule_whatever_it_is_given(shop, session, model):
    products = catalogue.load(session, NOW).products
    from content.stages import Stage
    request = Request(stage=Stage.parse(STAGE), candidates=products, now=NOW, k=50)
    for mode in ("model", "control"):
        assert NEVER.isdisjoint(keys(serve.rank(model, request, mode)))
    assert serve.rank(model, replace(request, k=0)) == []
    dismissed_all = replace(request, history=[Past(p.id, "dismiss", NOW) for p in products])
    assert serve.rank(model, dismissed_all) == []


def test_the_control_group_is_a_stable_share_of_families():
    assert not serve.in_control(1, 0.0) and serve.in_control(1, 1.0)
    picked = [serve.in_control(family, 0.1) for family in range(1, 20001)]
    assert 0.09 < np.mean(picked) < 0.11
    assert picked == [serve.in_control(family, 0.1) for family in range(1, 20001)]
    # a bigger share keeps everyone who was in the smaller one
    assert all(serve.in_control(f, 0.2) for f in range(1, 20001) if serve.in_control(f, 0.1))
