"""The nightly scoring: every parent's RFM, tier, group and CLV, rewritten in one go."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from clock import utcnow
from content.models import ContentItem
from crm import clv, scores
from crm.models import CustomerScore
from journeys.models import Delivery
from recommender import log
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")  # 12:00 on 23 November in Shanghai
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture
def product(session):
    item = ContentItem(kind="product", key=f"nappies-{secrets.token_hex(3)}",
                       window_unit="month", window_from=2, window_to=6)
    session.add(item)
    session.flush()
    return item


def buy(session, product, user, at, amount):
    log.record(session, log.Event(kind="purchase", item_id=product.id, surface="shop",
                                  idempotency_key=secrets.token_hex(8), user_id=user.id,
                                  quantity=1, amount_minor=amount, currency="CNY",
                                  occurred_at=at))


def sent(session, user, channel, n=1, at=NOW - timedelta(days=1)):
    for _ in range(n):
        session.add(Delivery(user_id=user.id, child_id=0, item_key=secrets.token_hex(6),
                             channel=channel, occurrence="x", status="sent", sent_at=at))
    session.flush()


def rows(session):
    session.expire_all()
    return {r.user_id: r for r in session.scalars(select(CustomerScore))}


def test_scores_by_hand_with_the_fallback_models(session, make_family, product):
    a, b, c = (make_family()[0] for _ in range(3))
    staff = make_staff(session, "analyst")
    # a: two purchases on 1 November (Shanghai: 16:30 UTC on 31 October is 00:30 on the 1st),
    # one on the 20th; b: one on the 10th; c: none; a purchase after `now` and one by staff
    # count for nobody
    buy(session, product, a, datetime(2026, 10, 31, 16, 30, tzinfo=UTC), 1000)
    buy(session, product, a, datetime(2026, 11, 1, 2, 0, tzinfo=UTC), 500)
    buy(session, product, a, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 3000)
    buy(session, product, b, datetime(2026, 11, 10, 2, 0, tzinfo=UTC), 20000)
    buy(session, product, b, NOW + timedelta(hours=1), 99999)
    buy(session, product, staff, datetime(2026, 11, 10, 2, 0, tzinfo=UTC), 5000)
    sent(session, a, "email", 2)
    sent(session, c, "inbox", 1)
    sent(session, c, "email", 1, at=NOW + timedelta(days=1))  # not sent yet as of now
    session.commit()

    report = scores.compute_scores(session, NOW)
    got = rows(session)
    assert set(got) >= {a.id, b.id, c.id} and staff.id not in got
    assert report.customers == len(got)
    assert (report.buyers, report.repeat_buyers, report.purchases) == (2, 1, 4)
    assert not report.bgnbd_fitted and not report.gamma_gamma_fitted  # 1 repeat buyer < 20
    assert report.bgnbd == scores.FALLBACK_BGNBD.as_dict()

    ra, rb, rc = got[a.id], got[b.id], got[c.id]
    assert (ra.recency_days, ra.frequency, ra.monetary_minor) == (3, 2, 4500)
    assert (rb.recency_days, rb.frequency, rb.monetary_minor) == (13, 1, 20000)
    assert (rc.recency_days, rc.frequency, rc.monetary_minor) == (None, 0, 0)
    # two buyers: the better scores ⌈5·2/2⌉ = 5, the other ⌈5·1/2⌉ = 3
    assert (ra.r_score, ra.f_score, ra.m_score, ra.tier) == (5, 5, 3, "high")  # 13
    assert (rb.r_score, rb.f_score, rb.m_score, rb.tier) == (3, 3, 5, "medium")  # 11
    assert (rc.r_score, rc.f_score, rc.m_score, rc.tier) == (0, 0, 0, "low")
    assert (rc.p_alive, rc.expected_purchases_90d, rc.clv_minor) == (0.0, 0.0, 0)

    model = scores.FALLBACK_BGNBD
    xa, txa, Ta = [1], [19 / 7], [22 / 7]  # purchase days 1 and 20 November; today the 23rd
    assert ra.p_alive == pytest.approx(clv.p_alive(model, xa, txa, Ta)[0], abs=1e-4)
    assert ra.expected_purchases_90d == pytest.approx(
        clv.expected_purchases(model, 90 / 7, xa, txa, Ta)[0], abs=1e-4)
    assert rb.p_alive == 1.0  # no repeat purchase
    # no Gamma-Gamma: each buyer's own mean spend per purchase day
    clv_a = 2250 * clv.discounted_purchases(model, xa, txa, Ta)[0]
    clv_b = 20000 * clv.discounted_purchases(model, [0], [0], [13 / 7])[0]
    assert (ra.clv_minor, rb.clv_minor) == (round(clv_a), round(clv_b))
    # groups: a's value so far 0.3·4500 − (2 emails · 5 + 2 orders · 800) = −260, plus its
    # potential; b: 6000 − 800 = 5200 > 0, alone with a positive value → most valuable;
    # c: one inbox push (1) and nothing bought → below zero
    assert rb.value_group == "most_valuable"
    assert rc.value_group == "below_zero"
    expected_a = "most_growable" if 0.3 * round(clv_a) > 0.3 * round(clv_b) else "other"
    assert -260 + 0.3 * round(clv_a) > 0 and ra.value_group == expected_a
    assert ra.computed_at == NOW

    # again: the table is rewritten, not added to
    scores.compute_scores(session, NOW + timedelta(days=1))
    again = rows(session)
    assert len(again) == len(got) and again[a.id].recency_days == 4
    # a deleted customer's row goes with the account
    session.delete(session.get(type(c), c.id))
    session.commit()
    assert c.id not in rows(session)


def bgnbd_histories(seed, n, weeks=43):
    """Purchase times (weeks) drawn from BG/NBD itself: rate λ ~ Gamma(0.8, 4), drop-out after
    each purchase with p ~ Beta(1, 3), first purchases in the first half of the period."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        rate, drop = rng.gamma(0.8, 1 / 4.0), rng.beta(1.0, 3.0)
        t = rng.uniform(0, weeks / 2)
        times = [t]
        while True:
            t += rng.exponential(1 / rate)
            if t > weeks:
                break
            times.append(t)
            if rng.random() < drop:
                break
        yield times


def test_with_enough_repeat_buyers_both_models_are_fitted(session, make_family, product):
    start = NOW - timedelta(weeks=43)
    rng = np.random.default_rng(2)
    people = []
    for times in bgnbd_histories(0, 60):
        person = make_family()[0]
        people.append(person)
        scale = rng.gamma(4.0, 15.0)  # Gamma-Gamma: each person's own typical basket (yuan)
        for t in times:
            amount = round(100 * rng.gamma(6.0, scale / 6.0))
            buy(session, product, person, start + timedelta(weeks=t), amount)
    session.commit()
    report = scores.compute_scores(session, NOW)
    assert report.repeat_buyers >= scores.MIN_REPEAT_BUYERS
    assert report.bgnbd_fitted and report.gamma_gamma_fitted
    assert set(report.bgnbd) == {"r", "alpha", "a", "b"} and set(report.gamma_gamma) == {
        "p", "q", "v"}
    got = rows(session)
    buyers = [got[p.id] for p in people]
    assert all(r.clv_minor > 0 and 0 < r.p_alive <= 1 for r in buyers)
    assert all(r.expected_purchases_90d > 0 for r in buyers)
    assert sum(report.tiers.values()) == sum(report.groups.values()) == report.customers
    assert "fitted" in report.summary() and "Tiers:" in report.summary()


def test_no_customers_and_no_purchases_write_nothing_or_zeros(session, make_family):
    scores.compute_scores(session, utcnow())  # whatever the database holds: no error
    user = make_family()[0]
    user.timezone = "Not/AZone"  # a zone the system does not know falls back, no error
    session.commit()
    report = scores.compute_scores(session, utcnow())
    row = rows(session)[user.id]
    assert (row.tier, row.value_group, row.clv_minor, row.recency_days) == ("low", "other", 0,
                                                                           None)
    assert report.bgnbd == {} and "0 buyers" in report.summary()


def test_fit_models_falls_back_when_a_fit_is_unusable(monkeypatch):
    x = np.array([1, 2, 3, 4] * 10, dtype=float)
    t_x, T, spend = x.copy(), np.full(40, 10.0), np.linspace(50, 150, 40)
    few = scores.fit_models(x[:5], t_x[:5], T[:5], spend[:5])  # 5 repeat buyers < 20
    assert few.bgnbd == scores.FALLBACK_BGNBD and not few.bgnbd_fitted
    assert few.gamma_gamma is None
    # Gamma-Gamma with q ≤ 1 has no finite mean: left out
    monkeypatch.setattr(clv, "fit_gamma_gamma", lambda *a: clv.GammaGamma(2.0, 0.9, 10.0))
    assert scores.fit_models(x, t_x, T, spend).gamma_gamma is None
    # an optimiser that did not converge, or a model whose expectations are not finite
    monkeypatch.setattr(clv, "fit_bgnbd", lambda *a: clv.BGNBD(1, 1, 1, 1, converged=False))
    assert not scores.fit_models(x, t_x, T, spend).bgnbd_fitted
    monkeypatch.setattr(clv, "fit_bgnbd", lambda *a: clv.BGNBD(0.5, 3.0, 1.0, 2.0))  # a = 1
    assert not scores.fit_models(x, t_x, T, spend).bgnbd_fitted
    monkeypatch.setattr(clv, "fit_bgnbd", lambda *a: clv.BGNBD(0.5, 3.0, 0.8, 2.0))
    assert scores.fit_models(x, t_x, T, spend).bgnbd_fitted


def test_degenerate_histories_do_not_pass_for_a_fit():
    # everyone buys like clockwork: BG/NBD runs off to a Poisson process with no drop-out
    x = np.array([5, 6, 7, 8] * 15, dtype=float)
    t_x = x * 4.0
    T = t_x + 2.0
    fitted = clv.fit_bgnbd(x, t_x, T)
    assert not fitted.converged
    assert not scores.fit_models(x, t_x, T, np.full(60, 100.0)).bgnbd_fitted


def test_the_data_export_has_the_persons_score_and_follow_ups(app, session, make_family,
                                                              product):
    from datetime import date

    from crm import due
    from diary.privacy import ExportScope

    user, child = make_family(birth_date=date(2026, 5, 30))
    other, _ = make_family()
    buy(session, product, user, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 4200)
    scores.compute_scores(session, NOW)
    due.set_status(session, make_staff(session, "marketer"), user.id, child.id, "stage",
                   date(2026, 11, 30), "contacted", NOW)
    registry = app.extensions["export_registry"]
    sections = registry.sections
    mine = ExportScope(user=user, memberships=list(user.memberships))
    score = sections["customer_score"].collect(session, mine)
    assert (score["monetary_minor"], score["frequency"], score["tier"]) == (4200, 1, "high")
    assert sections["due_follow_ups"].collect(session, mine) == [{
        "child_id": child.id, "kind": "stage", "due_on": "2026-11-30", "detail": "month:6",
        "status": "contacted", "updated_at": "2026-11-23T04:00:00+00:00"}]
    theirs = ExportScope(user=other, memberships=list(other.memberships))
    assert sections["due_follow_ups"].collect(session, theirs) == []
    assert sections["customer_score"].collect(session, theirs)["frequency"] == 0
