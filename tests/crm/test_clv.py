"""BG/NBD and Gamma-Gamma against the published CDNOW fits, and by hand on tiny cases.

CDNOW comes with the Lifetimes wheel (its data files only; nothing of its code is imported).
Without the wheel these tests skip on a developer's machine and fail in CI, where `make
install` must have put it there.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from scipy import special

from crm import cdnow, clv

PUBLISHED_LL = -9582.43


def need(load):
    """The data, or a skip on a developer's machine without the wheel (a failure in CI)."""
    try:
        return load()
    except cdnow.MissingData as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the data wheel: {error}")
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def sample():
    return need(lambda: cdnow.summary(cdnow.sample_transactions()))


@pytest.fixture(scope="module")
def fitted(sample):
    return clv.fit_bgnbd(sample.frequency, sample.recency, sample.T)


def test_our_summary_of_the_raw_sample_is_the_published_one(sample):
    published = cdnow.published_frequency_summary()
    with_spend = cdnow.published_summary()
    assert len(sample) == len(published) == len(with_spend) == 2357
    assert np.array_equal(sample.customer, published.customer)
    assert np.array_equal(sample.frequency, published.frequency)
    assert np.array_equal(sample.frequency, with_spend.frequency)
    # the files round to 2 decimals (ties such as 22.345 either way): within half a cent
    assert np.abs(sample.recency - published.recency).max() <= 0.005 + 1e-9
    assert np.abs(sample.T - published.T).max() <= 0.005 + 1e-9
    assert np.abs(sample.mean_spend - with_spend.mean_spend).max() <= 0.005 + 1e-9
    assert int((sample.frequency > 0).sum()) == 946
    # customer 1 by hand: 1997-01-01, 01-18, 08-02 (and 12-12, after the calibration)
    assert (sample.frequency[0], round(sample.recency[0], 2), round(sample.T[0], 2)) == (
        2, 30.43, 38.86)  # 213/7 and 272/7 weeks
    assert sample.mean_spend[0] == pytest.approx((29.73 + 14.96) / 2)


def test_bgnbd_fits_the_published_parameters_within_one_percent(fitted):
    for name, published in cdnow.PUBLISHED_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name
    assert fitted.log_likelihood == pytest.approx(PUBLISHED_LL, rel=0.01)
    assert fitted.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.05)  # in fact exactly
    assert fitted.converged


def test_the_published_parameters_give_the_published_log_likelihood(sample):
    ll = clv.bgnbd_log_likelihood((0.243, 4.414, 0.793, 2.426), sample.frequency,
                                  sample.recency, sample.T).sum()
    assert ll == pytest.approx(PUBLISHED_LL, abs=0.5)
    # and the maximum is a maximum: the published (rounded) point is not above it
    assert ll <= clv.bgnbd_log_likelihood(
        (0.2426, 4.4136, 0.7929, 2.4259), sample.frequency, sample.recency, sample.T).sum() \
        + 0.01


def test_gamma_gamma_on_the_946_repeat_buyers_within_one_percent():
    published = need(cdnow.published_summary)
    repeat = published.frequency > 0
    assert int(repeat.sum()) == 946
    fitted = clv.fit_gamma_gamma(published.frequency[repeat], published.mean_spend[repeat])
    for name, value in cdnow.PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.01), name
    assert fitted.converged


def test_validate_says_within_one_percent():
    report = need(cdnow.validate)
    assert report["within_1_percent"] is True and report["customers"] == 2357
    assert report["repeat_buyers"] == 946
    assert report["bgnbd"]["r"]["published"] == 0.243
    assert report["gamma_gamma"]["v"]["published"] == 15.44
    assert report["max_relative_error"] < 0.01


def test_without_the_wheel_the_error_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(cdnow.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(cdnow.MissingData, match="pip install --no-deps Lifetimes==0.11.3"):
        cdnow.sample_transactions()
    with pytest.raises(cdnow.MissingData, match="CDNOW_master.txt is missing"):
        cdnow.master_transactions(tmp_path)


# --- by hand -------------------------------------------------------------------------------

MODEL = clv.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_p_alive_is_one_without_a_repeat_purchase_and_by_hand_with_one():
    assert clv.p_alive(MODEL, [0, 0], [0, 0], [1, 38.86]).tolist() == [1.0, 1.0]
    # x = 1, t_x = 2, T = 10: 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
    odds = 0.793 / 2.426 * ((4.414 + 10) / (4.414 + 2)) ** 1.243
    assert clv.p_alive(MODEL, [1], [2], [10])[0] == pytest.approx(1 / (1 + odds))
    # bought at the very end: odds a/(b+x−1), the smallest there is
    assert clv.p_alive(MODEL, [3], [10], [10])[0] == pytest.approx(1 / (1 + 0.793 / 4.426))
    # the longer the silence, the less alive
    alive = clv.p_alive(MODEL, [2, 2, 2], [1, 5, 9], [10, 10, 10])
    assert alive[0] < alive[1] < alive[2]


def test_expected_purchases_by_hand():
    # a new customer (x = t_x = T = 0) expects what equation 9 says at time 0
    t = 4.0
    new = (MODEL.a + MODEL.b - 1) / (MODEL.a - 1) * (
        1 - (MODEL.alpha / (MODEL.alpha + t)) ** MODEL.r
        * special.hyp2f1(MODEL.r, MODEL.b, MODEL.a + MODEL.b - 1, t / (MODEL.alpha + t)))
    assert clv.expected_purchases_new(MODEL, t) == pytest.approx(new)
    assert clv.expected_purchases(MODEL, t, [0], [0], [0])[0] == pytest.approx(new)
    assert clv.expected_purchases(MODEL, 0.0, [3], [5], [10])[0] == 0.0
    # equation 10 for x = 2, t_x = 30.43, T = 38.86, t = 39 (FHL 2005's customer 1 style)
    x, tx, T, t = 2, 30.43, 38.86, 39.0
    r, al, a, b = MODEL.r, MODEL.alpha, MODEL.a, MODEL.b
    top = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x)
                                       * special.hyp2f1(r + x, b + x, a + b + x - 1,
                                                        t / (al + T + t)))
    bottom = 1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
    assert clv.expected_purchases(MODEL, t, [x], [tx], [T])[0] == pytest.approx(top / bottom)
    assert 0 < top / bottom < 3


def test_gamma_gamma_expected_spend_by_hand():
    gg = clv.GammaGamma(p=6.25, q=3.74, v=15.44)
    # no repeat purchase: the population mean pγ/(q−1)
    assert clv.expected_spend(gg, [0], [99.0])[0] == pytest.approx(6.25 * 15.44 / 2.74)
    # x = 2 of mean 22.35: p(γ + x m)/(px + q − 1)
    assert clv.expected_spend(gg, [2], [22.35])[0] == pytest.approx(
        6.25 * (15.44 + 2 * 22.35) / (12.5 + 2.74))
    with pytest.raises(ValueError, match="q ≤ 1"):
        clv.expected_spend(clv.GammaGamma(1.0, 0.9, 1.0), [1], [1.0])


def test_clv_discounts_each_month_by_hand():
    gg = clv.GammaGamma(p=6.25, q=3.74, v=15.44)
    x, tx, T = [2], [30.43], [38.86]
    spend = clv.expected_spend(gg, x, [22.35])[0]
    expected = 0.0
    before = 0.0
    for k in (1, 2, 3):
        now = clv.expected_purchases(MODEL, k * 30 / 7, x, tx, T)[0]
        expected += (now - before) / 1.01 ** k
        before = now
    got = clv.clv(MODEL, gg, x, tx, T, [22.35], months=3, monthly_discount=0.01)[0]
    assert got == pytest.approx(spend * expected)
    undiscounted = clv.clv(MODEL, gg, x, tx, T, [22.35], months=3, monthly_discount=0.0)[0]
    assert undiscounted == pytest.approx(spend * clv.expected_purchases(MODEL, 90 / 7, x, tx,
                                                                        T)[0])
    assert got < undiscounted


def test_log_likelihood_by_hand_for_one_customer():
    r, al, a, b = 0.5, 3.0, 0.8, 2.0
    x, tx, T = 2, 4.0, 10.0
    by_hand = (math.lgamma(r + x) - math.lgamma(r) + r * math.log(al)
               + special.betaln(a, b + x) - special.betaln(a, b)
               + math.log((al + T) ** -(r + x)
                          + a / (b + x - 1) * (al + tx) ** -(r + x)))
    assert clv.bgnbd_log_likelihood((r, al, a, b), [x], [tx], [T])[0] == pytest.approx(by_hand)
    one_timer = (math.lgamma(r) - math.lgamma(r) + r * math.log(al) + 0.0
                 - r * math.log(al + T))
    assert clv.bgnbd_log_likelihood((r, al, a, b), [0], [0], [T])[0] == pytest.approx(one_timer)


def test_the_gradient_is_the_derivative():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 50).astype(float)
    T = rng.uniform(5, 40, 50)
    tx = np.where(x > 0, rng.uniform(0, 1, 50) * T, 0.0)
    theta = np.array([0.4, 3.0, 0.9, 2.5])
    _ll, grad = clv._bgnbd_terms(theta, x, tx, T)
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (clv._bgnbd_terms(theta + step, x, tx, T, gradient=False)[0].sum()
                   - clv._bgnbd_terms(theta - step, x, tx, T, gradient=False)[0].sum()) / 2e-6
        assert grad[i].sum() == pytest.approx(numeric, rel=1e-5)
    m = rng.uniform(5, 50, 50)
    xs = x + 1
    ptheta = np.array([4.0, 3.0, 12.0])
    _ll, ggrad = clv._gg_terms(ptheta, xs, m)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (clv._gg_terms(ptheta + step, xs, m)[0].sum()
                   - clv._gg_terms(ptheta - step, xs, m)[0].sum()) / 2e-6
        assert ggrad[i].sum() == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize(("x", "tx", "T"), [([], [], []), ([-1], [0], [1]), ([1], [5], [4]),
                                            ([0], [1], [3]), ([1, 2], [1], [3])])
def test_bgnbd_refuses_impossible_summaries(x, tx, T):
    with pytest.raises(ValueError):
        clv.fit_bgnbd(x, tx, T)


@pytest.mark.parametrize(("x", "m"), [([], []), ([0], [5.0]), ([1], [0.0]), ([1], [-3.0])])
def test_gamma_gamma_refuses_non_repeat_buyers_and_non_positive_spend(x, m):
    with pytest.raises(ValueError):
        clv.fit_gamma_gamma(x, m)


def test_nothing_but_the_benchmark_imports_lifetimes():
    """The Lifetimes wheel is data here: its code may run only in bench/crm.py, as the
    reference fit timed beside ours."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("crm", "webapp", "diary", "content", "journeys", "recommender", "tests"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(n.split(".")[0].lower() == "lifetimes" for n in names):
                    found.append(str(path.relative_to(root)))
    assert found == []
