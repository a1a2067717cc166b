"""Customer lifetime value: BG/NBD (how often, and whether still a customer) and Gamma-Gamma
(how much per purchase), fitted by maximum likelihood with numpy and scipy.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at rate λ ~ Gamma(r, α); after each purchase they drop out with probability
p ~ Beta(a, b). Each customer is summarised by

    x    repeat purchases: purchase days − 1 (several purchases on one day are one),
    t_x  time from the first purchase to the last,
    T    time from the first purchase to the end of the observation,

in one time unit (weeks here, as in the paper). The log-likelihood of one customer is

    ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
      + ln[ (α+T)^−(r+x) + [x>0] · a/(b+x−1) · (α+t_x)^−(r+x) ],

summed (the second bracket with `logaddexp`, so nothing overflows), and maximised over the
logs of the four parameters by L-BFGS-B with the analytic gradient. Identical (x, t_x, T)
rows are counted once with a weight, so a shop where most customers bought once fits fast.

Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): a customer's
spend per purchase day is Gamma(p, ν) with ν ~ Gamma(q, γ). It is fitted on the repeat
buyers (x > 0) and their mean spend `m` over the repeat purchase days (the first one left
out, like the CDNOW summary's `zbar`):

    ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(xm+γ).

Expected spend per purchase for a customer: (p(γ + x m)) / (px + q − 1), the population
mean pγ/(q−1) for someone with no repeat purchase.

Discounting: CLV sums, month by month over `months` months of 30 days, the expected spend of
the purchases expected in that month, discounted at `monthly_discount` per month to the
month's end:

    CLV = spend × Σ_{k=1..months} (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^k,  t_k = 30k/7 weeks,

where E[Y(t)] is BG/NBD's expected number of purchases in the next t weeks given the
customer's own history.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

#: Weeks in the 30-day month that CLV is discounted by.
MONTH_WEEKS = 30 / 7
#: The optimiser searches the logs of the parameters within ±this (e^12 ≈ 160,000).
_LOG_BOUND = 12.0


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    converged: bool = True

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float  # γ in the papers
    log_likelihood: float = float("nan")
    converged: bool = True

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


def _arrays(*columns: object) -> list[np.ndarray]:
    arrays = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    if len({a.size for a in arrays}) != 1:
        raise ValueError("the columns must have the same length")
    return arrays


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows and how many times each occurs."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.float64)


# --- BG/NBD ----------------------------------------------------------------------------------

def bgnbd_log_likelihood(params: BGNBD | tuple[float, float, float, float], x: object,
                         t_x: object, T: object) -> np.ndarray:
    """Each customer's log-likelihood under BG/NBD (an array)."""
    r, alpha, a, b = params.as_dict().values() if isinstance(params, BGNBD) else params
    xs, tx, tt = _arrays(x, t_x, T)
    return _bgnbd_terms(np.array([r, alpha, a, b]), xs, tx, tt, gradient=False)[0]


def _bgnbd_terms(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                 gradient: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood and (optionally) its gradient with respect to (r, α, a, b)."""
    r, alpha, a, b = theta
    repeat = x > 0
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
          - special.gammaln(a + b + x))
    log_t = np.log(alpha + T)
    log_tx = np.log(alpha + t_x)
    a3 = -(r + x) * log_t
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                      - (r + x) * log_tx, -np.inf)
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail
    if not gradient:
        return ll, None
    w3 = np.exp(a3 - tail)
    w4 = np.where(repeat, np.exp(a4 - tail), 0.0)
    psi_r, psi_rx = special.digamma(r), special.digamma(r + x)
    psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + x)
    d_r = psi_rx - psi_r + np.log(alpha) - w3 * log_t - w4 * log_tx
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = psi_ab - psi_abx + w4 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(repeat, 1.0 / np.where(repeat, b + x - 1, 1.0), 0.0)
    d_b = psi_ab + special.digamma(b + x) - special.digamma(b) - psi_abx - w4 * inv
    return ll, np.vstack([d_r, d_alpha, d_a, d_b])


def fit_bgnbd(x: object, t_x: object, T: object,
              start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> BGNBD:
    """Maximum-likelihood BG/NBD parameters (r, α, a, b) for the customers' (x, t_x, T)."""
    xs, tx, tt = _arrays(x, t_x, T)
    if xs.size == 0:
        raise ValueError("no customers to fit")
    if np.any(xs < 0) or np.any(tx < 0) or np.any(tt < tx) or np.any((xs == 0) & (tx != 0)):
        raise ValueError("need x ≥ 0 and 0 ≤ t_x ≤ T, with t_x = 0 when x = 0")
    (xs, tx, tt), weights = _compress(xs, tx, tt)
    total = weights.sum()

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        ll, grad = _bgnbd_terms(theta, xs, tx, tt)
        assert grad is not None
        value = -float(weights @ ll) / total
        if not np.isfinite(value):
            return 1e100, np.zeros(4)
        return value, -(grad @ weights) * theta / total

    result = optimize.minimize(objective, np.log(np.asarray(start, dtype=np.float64)),
                               jac=True, method="L-BFGS-B",
                               bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
                               options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-15})
    r, alpha, a, b = np.exp(result.x)
    return BGNBD(float(r), float(alpha), float(a), float(b),
                 log_likelihood=-float(result.fun) * total,
                 converged=_converged(result))


def _converged(result: optimize.OptimizeResult) -> bool:
    """Finite, inside the bounds, and at a stationary point: L-BFGS-B's line search may give
    up on a gradient of 1e-8 (the mean log-likelihood per customer cannot get any better),
    which is still one. A parameter run off to a bound (e^±12) is a degenerate model — say,
    purchases so regular that BG/NBD becomes a Poisson process with no drop-out — not a fit."""
    inside = bool(np.all(np.abs(result.x) < _LOG_BOUND - 1e-3))
    return bool(np.isfinite(result.fun)) and inside and (
        bool(result.success) or float(np.abs(result.jac).max()) < 1e-6)


def p_alive(model: BGNBD, x: object, t_x: object, T: object) -> np.ndarray:
    """P(still a customer | x, t_x, T): 1 for a customer with no repeat purchase."""
    xs, tx, tt = _arrays(x, t_x, T)
    repeat = xs > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(model.a) - np.log(np.where(repeat, model.b + xs - 1, 1.0))
                    + (model.r + xs) * (np.log(model.alpha + tt) - np.log(model.alpha + tx)))
    return np.where(repeat, special.expit(-log_odds), 1.0)


def expected_purchases(model: BGNBD, t: float | np.ndarray, x: object, t_x: object,
                       T: object) -> np.ndarray:
    """E[purchases in the next `t` time units | x, t_x, T] (FHL 2005, equation 10)."""
    xs, tx, tt = _arrays(x, t_x, T)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + tt + t)
    hyper = special.hyp2f1(r + xs, b + xs, a + b + xs - 1, z)
    first = (a + b + xs - 1) / (a - 1) * (1 - np.power((alpha + tt) / (alpha + tt + t),
                                                       r + xs) * hyper)
    repeat = xs > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(repeat, a / np.where(repeat, b + xs - 1, 1.0)
                        * np.power((alpha + tt) / (alpha + tx), r + xs), 0.0)
    return np.asarray(first / (1 + odds))


def expected_purchases_new(model: BGNBD, t: float) -> float:
    """E[purchases in `t` time units] of a customer just acquired (FHL 2005, equation 9)."""
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    hyper = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return float((a + b - 1) / (a - 1) * (1 - np.power(alpha / (alpha + t), r) * hyper))


def discounted_purchases(model: BGNBD, x: object, t_x: object, T: object, months: int = 12,
                         monthly_discount: float = 0.01) -> np.ndarray:
    """Σ over the next `months` 30-day months of the purchases expected in each, discounted
    to the month's end at `monthly_discount` (see the module's docstring)."""
    xs, tx, tt = _arrays(x, t_x, T)
    total = np.zeros_like(xs)
    before = np.zeros_like(xs)
    for k in range(1, months + 1):
        now = expected_purchases(model, k * MONTH_WEEKS, xs, tx, tt)
        total += (now - before) / (1 + monthly_discount) ** k
        before = now
    return total


# --- Gamma-Gamma -----------------------------------------------------------------------------

def _gg_terms(theta: np.ndarray, x: np.ndarray, m: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    p, q, v = theta
    px = p * x
    log_xm_v = np.log(x * m + v)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
          + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * log_xm_v)
    psi_pxq = special.digamma(px + q)
    d_p = x * (psi_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_xm_v)
    d_q = psi_pxq - special.digamma(q) + np.log(v) - log_xm_v
    d_v = q / v - (px + q) / (x * m + v)
    return ll, np.vstack([d_p, d_q, d_v])


def fit_gamma_gamma(x: object, mean_spend: object,
                    start: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters (p, q, γ) from the repeat buyers' number of
    repeat purchases `x` (> 0) and mean spend per repeat purchase (> 0)."""
    xs, ms = _arrays(x, mean_spend)
    if xs.size == 0:
        raise ValueError("no repeat buyers to fit")
    if np.any(xs <= 0) or np.any(ms <= 0):
        raise ValueError("Gamma-Gamma needs repeat buyers (x > 0) with a positive spend")
    (xs, ms), weights = _compress(xs, ms)
    total = weights.sum()
    scale = float(np.average(ms, weights=weights))  # spend in units near 1: a better start

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        ll, grad = _gg_terms(theta, xs, ms / scale)
        value = -float(weights @ ll) / total
        if not np.isfinite(value):
            return 1e100, np.zeros(3)
        return value, -(grad @ weights) * theta / total

    result = optimize.minimize(objective, np.log(np.asarray(start, dtype=np.float64)),
                               jac=True, method="L-BFGS-B", bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
                               options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-15})
    p, q, v = np.exp(result.x)
    v *= scale  # γ is in money; p and q have no unit
    ll = float(weights @ _gg_terms(np.array([p, q, v]), xs, ms)[0])
    return GammaGamma(float(p), float(q), float(v), log_likelihood=ll,
                      converged=_converged(result))


def expected_spend(model: GammaGamma, x: object, mean_spend: object) -> np.ndarray:
    """E[spend per purchase | x repeat purchases of mean `mean_spend`]; the population mean
    pγ/(q−1) where x = 0. Needs q > 1 (a finite mean)."""
    if model.q <= 1:
        raise ValueError("Gamma-Gamma with q ≤ 1 has no finite mean spend")
    xs, ms = _arrays(x, mean_spend)
    p, q, v = model.p, model.q, model.v
    ms = np.where(xs > 0, ms, 0.0)
    return np.asarray(p * (v + xs * ms) / (p * xs + q - 1))


def clv(bgnbd: BGNBD, gamma_gamma: GammaGamma, x: object, t_x: object, T: object,
        mean_spend: object, months: int = 12, monthly_discount: float = 0.01) -> np.ndarray:
    """Discounted CLV per customer, in the unit of `mean_spend`: Gamma-Gamma's expected
    spend × BG/NBD's discounted expected purchases (module docstring)."""
    return expected_spend(gamma_gamma, x, mean_spend) * discounted_purchases(
        bgnbd, x, t_x, T, months, monthly_discount)
