"""The model's signals on examples small enough to work out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from recommender import model
from recommender.baselines import EASE
from recommender.model import (
    FEATURES,
    Candidates,
    Components,
    Contexts,
    Histories,
    ItemSide,
    Params,
    Row,
)

DAY = 86400.0


def histories(*profiles):
    """Histories from [(item, weight, time, stage, purchase), …] per profile."""
    rows = [event for events in profiles for event in events]
    offsets = np.cumsum([0] + [len(events) for events in profiles])
    return Histories(np.array(offsets), np.array([r[0] for r in rows], dtype=np.int32),
                     np.array([r[1] for r in rows], dtype=np.float32),
                     np.array([r[2] for r in rows], dtype=np.float64),
                     np.array([r[3] for r in rows], dtype=np.int64),
                     np.array([r[4] for r in rows], dtype=bool))


def test_the_interaction_matrix_weighs_kinds_and_decays_age():
    # profile 0: clicked and bought item 0, dismissed item 1; profile 1 saved item 1
    h = histories([(0, 1.0, 0.0, -1, False), (0, 4.0, 0.0, -1, True), (1, -2.0, 0.0, -1, False)],
                  [(1, 2.0, 0.0, -1, False)])
    assert model.interaction_matrix(h, 2, Params()).toarray().tolist() == [[5, -2], [0, 2]]
    # with times in seconds: the click half a half-life… a whole half-life older counts half
    old = histories([(0, 1.0, 0.0, -1, False), (0, 4.0, 180 * DAY, -1, True)])
    matrix = model.interaction_matrix(old, 1, Params(half_life_days=180), seconds=True)
    assert matrix.toarray()[0, 0] == pytest.approx(0.5 + 4.0)


def test_what_follows_what():
    h = histories([(0, 1, 0, -1, 0), (1, 1, 1, -1, 0), (2, 1, 2, -1, 0)],  # 0 → 1 → 2
                  [(0, 1, 0, -1, 0), (0, 1, 1, -1, 0), (2, 1, 2, -1, 0),  # a repeat counts once
                   (1, -2, 3, -1, 0)])  # a dismissal is not a step
    one = model.fit_transitions(h, 3, window=1)
    assert one.tolist() == [[0, 0.5, 0.5], [0, 0, 1], [0, 0, 0]]
    two = model.fit_transitions(h, 3, window=2)  # 0 → 2 also two steps later in profile 0
    assert two[0].tolist() == pytest.approx([0, 1 / 3, 2 / 3])


def test_stage_popularity_counts_families_and_lends_to_neighbours():
    # two families took item 0 at stage 2 (one of them twice), one family took item 1 there
    h = histories([(0, 1, 0, 2, 0), (0, 4, 1, 2, 1)], [(0, 1, 0, 2, 0)], [(1, 2, 0, 2, 0)])
    by_stage, overall = model.fit_popularity(h, 2, 5)
    assert by_stage[2].tolist() == pytest.approx([1.0, math.log(2) / math.log(3)])
    # stage 1 and 3 borrow half the counts (2 → 1, 1 → 0.5), stages 0 and 4 a quarter
    assert by_stage[1].tolist() == pytest.approx([1.0, math.log(1.5) / math.log(2)])
    assert by_stage[3].tolist() == pytest.approx(by_stage[1].tolist())
    assert by_stage[0].tolist() == pytest.approx([1.0, math.log(1.25) / math.log(1.5)])
    assert overall.tolist() == pytest.approx([1.0, math.log(2) / math.log(3)])


def test_repurchase_cycles_are_the_median_gap():
    h = histories([(0, 4, 0, -1, 1), (0, 4, 20 * DAY, -1, 1), (0, 4, 40 * DAY, -1, 1)],
                  [(0, 4, 0, -1, 1), (0, 4, 30 * DAY, -1, 1), (1, 4, 5 * DAY, -1, 1)])
    assert model.fit_cycles(h, 2, 30.0).tolist() == [20.0, 30.0]  # gaps 20, 20, 30


def test_the_linear_item_model_is_ease():
    x = sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float))
    ours = model.fit_ease(x, 2.0)
    theirs = EASE(2.0).fit(x).weights
    assert ours == pytest.approx(theirs.astype(np.float32), abs=1e-6)
    assert np.diag(ours).tolist() == [0, 0, 0]


def test_a_history_becomes_a_context_newest_first():
    h = histories([(0, 1.0, 0.0, -1, False), (1, 2.0, DAY, -1, False),
                   (2, 4.0, 2 * DAY, -1, True)])
    side = ItemSide(3)
    ctx = model.contexts([Row(h, 0, 3, stage=4, interests=[1], weight_kg=7.0, now=12 * DAY)],
                         side, Params(tau=20.0), n_interests=3)
    assert ctx.h[0].tolist() == pytest.approx([math.exp(-2 / 20), 2 * math.exp(-1 / 20), 4])
    assert ctx.last.tolist() == [[2, 1, 0]]
    assert ctx.days_since_purchase[0].tolist() == [math.inf, math.inf, 10.0]
    assert ctx.interests.tolist() == [[0, 1, 0]] and ctx.stage.tolist() == [4]


def _nappies() -> tuple[ItemSide, Components]:
    """NB (2–5 kg), S (4–8), M (6–11), L (9–14) on ladder 0, and an unsized item."""
    n = 5
    side = ItemSide(n, size_ladder=np.array([0, 0, 0, 0, -1]),
                    size_rank=np.array([0, 1, 2, 3, -1]),
                    size_min=np.array([2, 4, 6, 9, np.nan]),
                    size_max=np.array([5, 8, 11, 14, np.nan]),
                    consumable=np.array([1, 1, 1, 1, 0], dtype=bool))
    zeros = np.zeros((n, n), dtype=np.float32)
    comp = Components(zeros, zeros, zeros, np.zeros((0, 0)), np.zeros((0, n)),
                      np.zeros(n), np.full(n, 20.0))
    return side, comp


def _context(weight: float, bought_rank: int, days_since: float = math.inf) -> Contexts:
    days = np.full((1, 5), math.inf)
    days[0, 1] = days_since
    return Contexts(h=np.zeros((1, 5)), last=np.full((1, 3), -1), stage=np.array([-1]),
                    interests=np.zeros((1, 0)), weight_kg=np.array([weight]),
                    days_since_purchase=days, bought_rank=np.array([[bought_rank]]))


def test_size_fit_next_size_and_rebuy_by_hand():
    side, comp = _nappies()
    values = model.features(_context(7.0, 1, days_since=30.0), Candidates.of(comp, side))[0]
    fit, nxt, rebuy = (values[:, FEATURES.index(n)].tolist()
                       for n in ("size_fit", "next_size", "rebuy"))
    assert fit == [-1, 1, 1, 0, 0]  # outgrown NB; S and M fit 7 kg; L is still too big
    assert nxt == [0, 0, 1, 0, 0]  # bought S: M is the next size that fits
    assert rebuy == [0, 1.5, 0, 0, 0]  # S bought 30 days ago on a 20-day cycle
    # weight unknown: the next step up the ladder; nothing bought: no next size
    unknown = model.features(_context(math.nan, 1), Candidates.of(comp, side))[0]
    assert unknown[:, FEATURES.index("next_size")].tolist() == [0, 0, 1, 0, 0]
    assert unknown[:, FEATURES.index("size_fit")].tolist() == [0, 0, 0, 0, 0]
    none = model.features(_context(7.0, -1), Candidates.of(comp, side))[0]
    assert none[:, FEATURES.index("next_size")].tolist() == [0, 0, 0, 0, 0]


def test_collaborative_features_are_compared_within_a_row():
    values = np.zeros((1, 3, len(FEATURES)))
    values[0, :, FEATURES.index("ease")] = [1.0, 2.0, 3.0]
    values[0, :, FEATURES.index("stage_pop")] = [0.2, 0.4, 0.9]
    z = model.normalise_rows(values)
    assert z[0, :, FEATURES.index("ease")].tolist() == pytest.approx(
        [-math.sqrt(1.5), 0, math.sqrt(1.5)])
    assert z[0, :, FEATURES.index("stage_pop")].tolist() == [0.2, 0.4, 0.9]  # not z-scored
    usable = np.array([[True, True, False]])  # mean 1.5, sd 0.5 over the usable two
    assert model.normalise_rows(values, usable)[0, :, FEATURES.index("ease")].tolist() \
        == pytest.approx([-1, 1, 3])


def test_the_ranker_learns_which_feature_picks_the_chosen_item():
    rng = np.random.default_rng(0)
    x, y, groups = [], [], []
    for group in range(60):
        for j in range(5):
            row = np.zeros(len(FEATURES))
            row[FEATURES.index("interest")] = 1.0 if j == 0 else 0.0
            row[FEATURES.index("price")] = rng.normal()
            x.append(row)
            y.append(1.0 if j == 0 else 0.0)
            groups.append(group)
    ranker = model.fit_ranker(np.array(x), np.array(y), np.array(groups), "impressions")
    weights = ranker.to_dict()["weights"]
    assert ranker.source == "impressions"
    assert weights["interest"] > 1.0 > abs(weights["price"])
    best = ranker.score(np.array(x[:5]))
    assert int(np.argmax(best)) == 0
    # the score is the sum of the contributions
    assert ranker.contributions(np.array(x[0])).sum() == pytest.approx(ranker.score(x[0]))


def test_nothing_to_learn_gives_the_default_blend():
    x = np.ones((4, len(FEATURES)))
    only_clicks = model.fit_ranker(x, np.ones(4), np.array([0, 0, 1, 1]), "impressions")
    assert only_clicks.source == "default"
    assert only_clicks.coef.tolist() == [model.DEFAULT_WEIGHTS[n] for n in FEATURES]
    # a chosen and a passed-over item never in one group: no pair to compare
    apart = model.fit_ranker(x, np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1]), "impressions")
    assert apart.source == "default"
