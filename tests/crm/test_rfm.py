"""RFM, tiers and the value groups, each rule checked on an example worked out by hand."""
from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from crm import rfm, vocabulary


def test_quintiles_ties_take_the_score_of_their_first_position():
    # n = 10, positions from the worst: 1,1,1 take position 1; 2 is 4th; 3 is 5th; 5,5 take
    # the 6th; 8 is 8th; 9 and 10 are 9th and 10th. Score ⌈5p/10⌉.
    values = np.array([5, 1, 10, 1, 3, 8, 2, 9, 5, 1])
    assert rfm.quintile_scores(values).tolist() == [3, 1, 5, 1, 3, 4, 2, 5, 3, 1]
    # the order of rows changes nothing
    order = np.random.default_rng(1).permutation(10)
    assert rfm.quintile_scores(values[order]).tolist() == \
        rfm.quintile_scores(values)[order].tolist()


def test_quintiles_without_ties_are_fifths_and_the_best_is_five_even_alone():
    assert rfm.quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.quintile_scores(np.array([42])).tolist() == [5]
    assert rfm.quintile_scores(np.array([7, 7, 7, 7, 7, 7])).tolist() == [1] * 6
    # n = 3: positions 1, 2, 3 → ⌈5/3⌉, ⌈10/3⌉, ⌈15/3⌉
    assert rfm.quintile_scores(np.array([10, 50, 100])).tolist() == [2, 4, 5]


def test_recency_is_better_when_smaller_and_non_buyers_score_zero():
    days = np.array([0, 3, 3, 10, 40, -1])
    bought = days >= 0
    # worst first: 40 (p1), 10 (p2), 3 and 3 (p3), 0 (p5) of n = 5
    assert rfm.quintile_scores(days, bought, higher_is_better=False).tolist() == \
        [5, 3, 3, 2, 1, 0]
    assert rfm.quintile_scores(np.array([1.0, 2.0]), np.array([False, False])).tolist() == \
        [0, 0]


def test_summary_counts_purchase_days_spend_and_repeat_spend():
    # customer 0: two purchases on day 100 (one purchase day), one on day 110;
    # customer 1 never bought; customer 2: one purchase on day 105
    summary = rfm.summarise(3, np.array([0, 2, 0, 0]), np.array([110, 105, 100, 100]),
                            np.array([500, 900, 200, 300]))
    assert summary.first_day.tolist() == [100, -1, 105]
    assert summary.last_day.tolist() == [110, -1, 105]
    assert summary.days.tolist() == [2, 0, 1]
    assert summary.monetary.tolist() == [1000, 0, 900]
    assert summary.repeat_spend.tolist() == [500, 0, 0]  # the first day left out
    scores = rfm.rfm(summary, today=120)
    assert scores.recency_days.tolist() == [10, -1, 15]
    assert (scores.r.tolist(), scores.f.tolist(), scores.m.tolist()) == (
        [5, 0, 3], [5, 0, 3], [5, 0, 3])
    with pytest.raises(ValueError, match="no customer"):
        rfm.summarise(2, np.array([2]), np.array([1]), np.array([1]))
    empty = rfm.summarise(2, np.array([], dtype=int), np.array([], dtype=int),
                          np.array([], dtype=int))
    assert empty.days.tolist() == [0, 0] and empty.first_day.tolist() == [-1, -1]


def test_a_purchase_counts_on_the_customers_local_day():
    def seconds(*args):
        return int(datetime(*args, tzinfo=UTC).timestamp())

    zones = ["Asia/Shanghai", "Europe/London", "America/New_York"]
    stamps = np.array([
        seconds(2026, 11, 22, 16, 30),  # Shanghai 00:30 on the 23rd
        seconds(2026, 11, 22, 15, 59),  # Shanghai 23:59 on the 22nd
        seconds(2026, 3, 29, 0, 30),  # London 00:30 GMT on 29 March (clocks go forward at 1)
        seconds(2026, 3, 28, 23, 30),  # London 23:30 on the 28th
        seconds(2026, 6, 30, 23, 30),  # London 00:30 BST on 1 July
        seconds(2026, 11, 1, 5, 30),  # New York 01:30 EDT (the hour repeats at 06:00 UTC)
        seconds(2026, 11, 1, 6, 30),  # New York 01:30 EST, the same local day
        seconds(2026, 11, 2, 4, 59),  # New York 23:59 on 1 November
    ])
    zone = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    got = [rfm.from_day_number(d) for d in rfm.local_days(stamps, zone, zones)]
    assert got == [date(2026, 11, 23), date(2026, 11, 22), date(2026, 3, 29),
                   date(2026, 3, 28), date(2026, 7, 1), date(2026, 11, 1), date(2026, 11, 1),
                   date(2026, 11, 1)]
    assert rfm.day_number(date(1970, 1, 2)) == 1


def test_tiers_by_the_sum_of_the_scores():
    scores = rfm.Scores(recency_days=np.zeros(6), frequency=np.zeros(6), monetary=np.zeros(6),
                        r=np.array([5, 4, 4, 3, 2, 0]), f=np.array([5, 4, 3, 3, 3, 0]),
                        m=np.array([5, 4, 4, 2, 2, 0]))
    # sums 15, 12, 11, 8, 7, 0
    assert rfm.tiers(scores).tolist() == ["high", "high", "medium", "medium", "low", "low"]


def test_cost_to_serve_and_current_value_by_hand():
    cost = rfm.cost_to_serve(np.array([10, 0]), np.array([30, 2]), np.array([2, 0]))
    assert cost.tolist() == [10 * 5 + 30 * 1 + 2 * 800, 2]
    assert rfm.current_value(np.array([10_000, 0]), cost).tolist() == [3000 - 1680, -2]
    assert rfm.potential(np.array([1000])).tolist() == [300.0]


def test_value_groups_by_hand():
    current = np.array([100, 50, -30, 10, -5, 0])
    future = np.array([20, 500, 10, 5, 0, 40])
    # below zero: −30+10 < 0 and −5+0 < 0. Positive current value: 10, 50, 100 (n = 3)
    # score ⌈5p/3⌉ → 100 alone scores 5. Potential among those not below zero and > 0:
    # 5, 20, 40, 500 (n = 4) → 500 scores 5 (customer 1, not most valuable).
    assert rfm.value_groups(current, future).tolist() == [
        "most_valuable", "most_growable", "below_zero", "other", "below_zero", "other"]
    # a customer both most valuable and of the highest potential stays most valuable
    assert rfm.value_groups(np.array([100, 1]), np.array([900, 10])).tolist() == [
        "most_valuable", "other"]
    assert rfm.value_groups(np.array([]), np.array([])).tolist() == []


def test_every_tier_and_group_has_words_and_a_strategy():
    assert set(vocabulary.TIER_LABELS) == set(vocabulary.TIER_STRATEGIES) == set(rfm.TIERS)
    assert set(vocabulary.GROUP_LABELS) == set(vocabulary.GROUP_RULES) == set(rfm.GROUPS)
    assert vocabulary.label(vocabulary.TIER_STRATEGIES, "high", "en").startswith(
        "Keep and reward")
    assert vocabulary.label(vocabulary.TIER_LABELS, "nope", "en") == "nope"
