"""The online test's interval, worked by hand, and the simulated test itself: the model's
suggestions are clicked more than the stage-popularity control's, beyond doubt."""
from __future__ import annotations

import math

import pytest

from recommender import online
from recommender.online import ctr_lift


def test_the_interval_by_hand():
    # treatment: 2/10 and 4/10 → 0.3; residuals −1, +1 → var = 2/1 · 2 / 20² = 0.01
    # control: 1/10 and 1/10 → 0.1, no spread → var 0; difference 0.2 ± 1.96 · 0.1
    lift = ctr_lift([(2, 10), (4, 10)], [(1, 10), (1, 10)])
    assert (lift.treatment_ctr, lift.control_ctr) == pytest.approx((0.3, 0.1))
    assert lift.difference == pytest.approx(0.2) and lift.standard_error == pytest.approx(0.1)
    assert (lift.low, lift.high) == pytest.approx((0.2 - 0.1959964, 0.2 + 0.1959964))
    assert lift.significant and lift.relative == pytest.approx(2.0)
    assert lift.to_dict()["ci95"] == [0.004, 0.396]


def test_one_impression_per_family_is_the_binomial_with_m_minus_1():
    # 3 of 4 clicked: p = 0.75, Σ(c − p)² = 0.75 → var = 4/3 · 0.75 / 16 = 1/16
    lift = ctr_lift([(1, 1), (1, 1), (1, 1), (0, 1)], [(0, 5)])
    assert lift.standard_error == pytest.approx(0.25)
    assert lift.difference == pytest.approx(0.75)
    assert not ctr_lift([(1, 2), (0, 2)], [(1, 2), (0, 2)]).significant


def test_an_interval_needs_impressions_and_possible_counts():
    with pytest.raises(ValueError, match="no impressions"):
        ctr_lift([(0, 0)], [(1, 2)])
    with pytest.raises(ValueError, match="impossible"):
        ctr_lift([(3, 2)], [(1, 2)])
    with pytest.raises(ValueError, match="impossible"):
        ctr_lift([(1, 2)], [(-1, 2)])
    assert ctr_lift([(1, 4)], [(0, 4)]).standard_error == 0.0  # one family: no spread


def test_the_simulated_online_test_shows_a_lift_beyond_doubt():
    result = online.run()
    # about a hundred families on each side (a fifth of the simulated families drift away
    # before the test weeks and are not in it)
    assert result["families"]["model"] > 90 and result["families"]["control"] > 90
    low, high = result["ci95"]
    assert 0 < low < result["difference"] < high  # the 95 % interval excludes zero
    assert result["treatment_ctr"] > result["control_ctr"]
    assert result["ranker"] == "impressions" and result["surface"] == "child_page"
    assert math.isclose(result["difference"],
                        result["treatment_ctr"] - result["control_ctr"], abs_tol=1e-4)
