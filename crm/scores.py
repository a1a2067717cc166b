"""The nightly scoring: RFM, tier, value group and the CLV model's expectations for every
customer, written to `customer_scores` (`crm.models.CustomerScore`).

`compute_scores(session, now)` reads the parents (users with no staff role), their purchases
(the interaction log's `purchase` rows up to `now`) and the messages delivered to them (sent
`deliveries`, by channel), then rewrites the whole table in the caller's transaction, so a
reader sees yesterday's scores or today's, never half of each. Called by the scheduler's
nightly job, `flask crm scores` and `flask demo load`.

The CLV models are fitted on the site's own purchase history, in weeks: a customer's x is
their purchase days − 1, t_x the weeks from their first purchase day to the last, T the weeks
from the first purchase day to today (local days, `crm.rfm`). Gamma-Gamma is fitted on the
repeat buyers' mean spend per repeat purchase day (the first day left out, as in CDNOW).

Fallbacks, when the history cannot carry a fit (fewer than MIN_REPEAT_BUYERS repeat buyers;
an optimiser that does not converge, including parameters running off to their bounds, as
when nobody has visibly dropped out yet and BG/NBD degenerates into a Poisson process; a
model whose expectations are not finite; or Gamma-Gamma with q ≤ 1, which has no finite
mean):

- BG/NBD takes FALLBACK_BGNBD, the published CDNOW parameters (weekly): a shop whose
  customers buy now and then and drift away, a prudent prior until the site has history;
- Gamma-Gamma is left out: each buyer's expected spend per purchase is their own mean spend
  per purchase day so far (no shrinkage towards the population).

The report says which of the two happened.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from crm import clv, rfm
from crm.models import CustomerScore
from diary.models import User
from journeys.models import Delivery
from recommender.models import Interaction

MIN_REPEAT_BUYERS = 20
FALLBACK_BGNBD = clv.BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
#: What CLV covers: the next twelve 30-day months, discounted 1 % a month (≈ 12.7 % a year).
CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
EXPECTED_DAYS = 90  # expected_purchases_90d
DEFAULT_ZONE = "Asia/Shanghai"
_CHUNK = 5000


@dataclass
class ScoreReport:
    customers: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    purchases: int = 0
    bgnbd: dict[str, float] = field(default_factory=dict)
    bgnbd_fitted: bool = False
    gamma_gamma: dict[str, float] = field(default_factory=dict)
    gamma_gamma_fitted: bool = False
    tiers: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        bg = "fitted" if self.bgnbd_fitted else "fallback (too little history)"
        gg = "fitted" if self.gamma_gamma_fitted else "fallback (own mean spend)"
        tiers = ", ".join(f"{self.tiers.get(t, 0)} {t}" for t in rfm.TIERS)
        groups = ", ".join(f"{self.groups.get(g, 0)} {g}" for g in rfm.GROUPS)
        return (f"Scored {self.customers} customers ({self.buyers} buyers, "
                f"{self.repeat_buyers} repeat buyers, {self.purchases} purchases). "
                f"BG/NBD {bg}: {_params(self.bgnbd)}; Gamma-Gamma {gg}"
                + (f": {_params(self.gamma_gamma)}" if self.gamma_gamma else "")
                + f". Tiers: {tiers}. Groups: {groups}.")


def _params(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in values.items())


def _zone(name: str | None) -> str:
    try:
        ZoneInfo(name or "")
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_ZONE
    return name or DEFAULT_ZONE


@dataclass(frozen=True)
class Models:
    bgnbd: clv.BGNBD
    bgnbd_fitted: bool
    gamma_gamma: clv.GammaGamma | None


def fit_models(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, mean_spend: np.ndarray
               ) -> Models:
    """BG/NBD and Gamma-Gamma on the buyers' summaries, or the fallbacks (module docstring)."""
    repeat = x > 0
    bgnbd, fitted = FALLBACK_BGNBD, False
    if int(repeat.sum()) >= MIN_REPEAT_BUYERS:
        candidate = clv.fit_bgnbd(x, t_x, T)
        if candidate.converged and _predicts(candidate, x, t_x, T):
            bgnbd, fitted = candidate, True
    gamma_gamma = None
    spenders = repeat & (mean_spend > 0)
    if int(spenders.sum()) >= MIN_REPEAT_BUYERS:
        gg = clv.fit_gamma_gamma(x[spenders], mean_spend[spenders])
        if gg.converged and gg.q > 1 and np.isfinite(gg.p) and np.isfinite(gg.v):
            gamma_gamma = gg
    return Models(bgnbd, fitted, gamma_gamma)


def _predicts(model: clv.BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> bool:
    """Finite expectations for every customer (a near 1 or huge r + x can break the
    hypergeometric function)."""
    with np.errstate(all="ignore"):
        values = clv.discounted_purchases(model, x, t_x, T, CLV_MONTHS, MONTHLY_DISCOUNT)
    return bool(np.all(np.isfinite(values)) and np.all(values >= 0))


def compute_scores(session: Session, now: datetime) -> ScoreReport:
    """Rewrite `customer_scores` for every parent as of `now` (module docstring). Never
    commits: the caller owns the transaction."""
    report = ScoreReport()
    parents = session.execute(select(User.id, User.timezone)
                              .where(User.staff_role.is_(None)).order_by(User.id)).all()
    ids = np.array([p.id for p in parents], dtype=np.int64)
    zones = sorted({_zone(p.timezone) for p in parents}) or [DEFAULT_ZONE]
    zone_index = {name: i for i, name in enumerate(zones)}
    zone_of = np.array([zone_index[_zone(p.timezone)] for p in parents], dtype=np.int64)
    n = int(ids.size)
    report.customers = n

    rows = session.execute(
        select(Interaction.user_id, Interaction.occurred_at, Interaction.amount_minor)
        .where(Interaction.kind == "purchase", Interaction.user_id.is_not(None),
               Interaction.occurred_at <= now)).all()
    who = _index(ids, np.array([r.user_id for r in rows], dtype=np.int64))
    seconds = np.array([int(r.occurred_at.timestamp()) for r in rows], dtype=np.int64)
    amount = np.array([max(r.amount_minor or 0, 0) for r in rows], dtype=np.int64)
    keep = who >= 0
    who, seconds, amount = who[keep], seconds[keep], amount[keep]
    report.purchases = int(who.size)
    days = rfm.local_days(seconds, zone_of[who], zones)
    summary = rfm.summarise(n, who, days, amount)
    today = rfm.local_days(np.full(n, int(now.timestamp()), dtype=np.int64), zone_of, zones)
    scores = rfm.rfm(summary, today)
    tiers = rfm.tiers(scores)

    sent = session.execute(select(Delivery.user_id, Delivery.channel, func.count())
                           .where(Delivery.status == "sent", Delivery.sent_at <= now)
                           .group_by(Delivery.user_id, Delivery.channel)).all()
    to = _index(ids, np.array([r[0] for r in sent], dtype=np.int64))
    count = np.array([r[2] for r in sent], dtype=np.int64)
    by_email = np.array([r[1] == "email" for r in sent], dtype=bool)
    emails = np.bincount(to[(to >= 0) & by_email], count[(to >= 0) & by_email], n)
    inbox = np.bincount(to[(to >= 0) & ~by_email], count[(to >= 0) & ~by_email], n)

    bought = summary.bought
    report.buyers = int(bought.sum())
    x = np.where(bought, summary.days - 1, 0)
    t_x = np.where(bought, (summary.last_day - summary.first_day) / 7.0, 0.0)
    T = np.where(bought, (today - summary.first_day) / 7.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_repeat = np.where(x > 0, summary.repeat_spend / np.maximum(x, 1), 0.0)
        own_mean = np.where(bought, summary.monetary / np.maximum(summary.days, 1), 0.0)
    report.repeat_buyers = int((x > 0).sum())
    expected = np.zeros(n)
    alive = np.zeros(n)
    value = np.zeros(n)
    if report.buyers:
        b = np.flatnonzero(bought)
        models = fit_models(x[b], t_x[b], T[b], mean_repeat[b])
        report.bgnbd, report.bgnbd_fitted = models.bgnbd.as_dict(), models.bgnbd_fitted
        expected[b] = clv.expected_purchases(models.bgnbd, EXPECTED_DAYS / 7, x[b], t_x[b],
                                             T[b])
        alive[b] = clv.p_alive(models.bgnbd, x[b], t_x[b], T[b])
        if models.gamma_gamma is not None:
            report.gamma_gamma, report.gamma_gamma_fitted = models.gamma_gamma.as_dict(), True
            spend = clv.expected_spend(models.gamma_gamma, x[b], mean_repeat[b])
        else:
            spend = own_mean[b]
        value[b] = spend * clv.discounted_purchases(models.bgnbd, x[b], t_x[b], T[b],
                                                    CLV_MONTHS, MONTHLY_DISCOUNT)
    value = np.where(np.isfinite(value), np.maximum(value, 0.0), 0.0)
    clv_minor = np.rint(value).astype(np.int64)
    current = rfm.current_value(summary.monetary,
                                rfm.cost_to_serve(emails, inbox, summary.days))
    groups = rfm.value_groups(current, rfm.potential(clv_minor))
    report.tiers = _counts(tiers)
    report.groups = _counts(groups)

    session.execute(delete(CustomerScore))
    columns = dict(user_id=ids, recency_days=scores.recency_days, frequency=summary.days,
                   monetary_minor=summary.monetary, r_score=scores.r, f_score=scores.f,
                   m_score=scores.m, tier=tiers, value_group=groups,
                   expected_purchases_90d=np.round(expected, 4), p_alive=np.round(alive, 4),
                   clv_minor=clv_minor)
    for chunk in _chunks(columns, n, now):
        session.execute(insert(CustomerScore), chunk)
    return report


def _index(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's position in `sorted_ids`, −1 where it is not there."""
    if sorted_ids.size == 0:
        return np.full(values.size, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, values), sorted_ids.size - 1)
    return np.where(sorted_ids[pos] == values, pos, -1)


def _counts(codes: np.ndarray) -> dict[str, int]:
    names, counts = np.unique(codes, return_counts=True)
    return {str(k): int(v) for k, v in zip(names, counts, strict=True)}


def _chunks(columns: dict[str, np.ndarray], n: int, now: datetime
            ) -> Iterator[list[dict[str, Any]]]:
    lists = {name: values.tolist() for name, values in columns.items()}
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        yield [{"computed_at": now,
                **{name: values[i] for name, values in lists.items()},
                "recency_days": None if lists["recency_days"][i] < 0
                else lists["recency_days"][i]}
               for i in range(start, stop)]
