"""RFM scores, value tiers and the value grouping, for every customer at once (numpy).

A customer is a parent account (`users.staff_role IS NULL`); what they bought are the
`purchase` rows of the interaction log (`amount_minor` in minor units, `occurred_at` UTC).
Everything here works on arrays indexed by customer, so a million customers take a second or
two, not a Python loop each.

**Purchase days.** A purchase's day is its local calendar day in the customer's time zone
(`local_days`). Several purchases on one day are one purchase day (one order, for the cost
model): frequency counts purchase days, as BG/NBD does.

**RFM.** Recency = days from the last purchase day to today (both local); frequency = purchase
days; monetary = everything bought (minor units). Customers who never bought get no values
and score 0 on all three.

**Quintile scores and ties** (`quintile_scores`). Rank the n customers who bought from worst
to best (lower frequency or monetary is worse; more days since the last purchase is worse for
recency); a customer's position p (1..n) is 1 + the number of customers with a strictly worse
value, and the score is ⌈5·p/n⌉. So *equal values always get the same score*: a tie group
takes the score of its first (worst) position, as if ranked with ties given their lowest rank.
Without ties every quintile holds n/5 customers (n = 10: positions 1–2 score 1, …, 9–10
score 5); the best customer always scores 5, even alone. Deterministic (no order of rows or
random tie-break matters), at the price of uneven quintiles where many tie (most people
buying once all score frequency 1).

**Tiers** (`tiers`): high when R+F+M ≥ 12, medium when 8–11, low below 8 or never bought;
each with its strategy (`crm.vocabulary`): keep and reward, develop, serve at low cost.

**Value groups** (`value_groups`), all in minor units:

    margin so far  = MARGIN_RATE × monetary
    cost to serve  = COST_PER_EMAIL × emails delivered + COST_PER_INBOX × inbox pushes
                     delivered + COST_PER_ORDER × purchase days (handling per order)
    current value  = margin so far − cost to serve
    potential      = MARGIN_RATE × CLV (the discounted margin still to come, `crm.clv`)

- below zero: current value + potential < 0 (they cost more than they bring, all told);
- most valuable: otherwise, current value > 0 and its quintile score (same tie rule, among
  the customers with a positive current value) is 5;
- most growable: otherwise, potential > 0 and its quintile score (among the customers not
  below zero with a positive potential) is 5;
- other: everyone else.

The cost model is deliberately a few constants, not configuration: a rough, documented cost
that the groups can be read against, changed here when the brand knows better.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

#: The cost model (minor units of the shop's currency, CNY fen) and the gross margin.
CURRENCY = "CNY"
MARGIN_RATE = 0.30
COST_PER_EMAIL_MINOR = 5  # ¥0.05 per email delivered
COST_PER_INBOX_MINOR = 1  # ¥0.01 per inbox push delivered
COST_PER_ORDER_MINOR = 800  # ¥8.00 handling per order (purchase day)

TIERS = ("high", "medium", "low")
GROUPS = ("most_valuable", "most_growable", "below_zero", "other")
HIGH_FROM, MEDIUM_FROM = 12, 8  # R+F+M
SECONDS_PER_DAY = 86_400


# --- local days ------------------------------------------------------------------------------

def _offsets(zone: ZoneInfo, hours: np.ndarray) -> np.ndarray:
    return np.array([int(datetime.fromtimestamp(int(h) * 3600, UTC).astimezone(zone)
                         .utcoffset().total_seconds())  # type: ignore[union-attr]
                     for h in hours], dtype=np.int64)


def local_days(seconds: np.ndarray, zone_of_row: np.ndarray, zones: Sequence[str]
               ) -> np.ndarray:
    """Local day numbers (days since 1970-01-01 on the local calendar) of UTC instants given
    as epoch seconds, each in `zones[zone_of_row[i]]`. Offsets are looked up once per zone
    and UTC hour; an hour with a transition inside it is looked up row by row."""
    seconds = np.asarray(seconds, dtype=np.int64)
    zone_of_row = np.asarray(zone_of_row, dtype=np.int64)
    offset = np.zeros(seconds.size, dtype=np.int64)
    for code in np.unique(zone_of_row):
        zone = ZoneInfo(zones[int(code)])
        rows = np.flatnonzero(zone_of_row == code)
        hours, inverse = np.unique(seconds[rows] // 3600, return_inverse=True)
        start, end = _offsets(zone, hours), _offsets(zone, hours + 1)
        found = start[inverse]
        moving = np.flatnonzero((start != end)[inverse])  # a transition within the hour
        for i in moving:
            found[i] = int(datetime.fromtimestamp(int(seconds[rows[i]]), UTC).astimezone(zone)
                           .utcoffset().total_seconds())  # type: ignore[union-attr]
        offset[rows] = found
    return (seconds + offset) // SECONDS_PER_DAY


EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """A date's day number (days since 1970-01-01)."""
    return (day - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


# --- per-customer summary --------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """Per customer (index 0..n−1); `first_day` is −1 for a customer who never bought."""

    first_day: np.ndarray
    last_day: np.ndarray
    days: np.ndarray  # purchase days (frequency)
    monetary: np.ndarray  # minor units
    repeat_spend: np.ndarray  # minor units spent on the purchase days after the first

    @property
    def bought(self) -> np.ndarray:
        return self.days > 0


def summarise(n_customers: int, customer: np.ndarray, day: np.ndarray, amount: np.ndarray
              ) -> Summary:
    """Purchase rows (customer index, local day number, amount) → per-customer summary."""
    customer = np.asarray(customer, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    amount = np.asarray(amount, dtype=np.int64)
    first = np.full(n_customers, -1, dtype=np.int64)
    last = np.full(n_customers, -1, dtype=np.int64)
    days = np.zeros(n_customers, dtype=np.int64)
    monetary = np.zeros(n_customers, dtype=np.int64)
    repeat = np.zeros(n_customers, dtype=np.int64)
    if customer.size == 0:
        return Summary(first, last, days, monetary, repeat)
    if customer.min() < 0 or customer.max() >= n_customers:
        raise ValueError("a purchase names no customer")
    order = np.lexsort((day, customer))
    c, d, a = customer[order], day[order], amount[order]
    new_day = np.ones(c.size, dtype=bool)
    new_day[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new_day)
    day_customer, day_day = c[starts], d[starts]
    day_spend = np.add.reduceat(a, starts)
    new_customer = np.ones(day_customer.size, dtype=bool)
    new_customer[1:] = day_customer[1:] != day_customer[:-1]
    firsts = np.flatnonzero(new_customer)
    lasts = np.append(firsts[1:], day_customer.size) - 1
    who = day_customer[firsts]
    first[who] = day_day[firsts]
    last[who] = day_day[lasts]
    days[who] = lasts - firsts + 1
    monetary[who] = np.add.reduceat(day_spend, firsts)
    repeat[who] = monetary[who] - day_spend[firsts]
    return Summary(first, last, days, monetary, repeat)


# --- scores ----------------------------------------------------------------------------------

def quintile_scores(values: np.ndarray, valid: np.ndarray | None = None,
                    higher_is_better: bool = True) -> np.ndarray:
    """1..5 for the valid values (5 best), 0 for the others: ⌈5·p/n⌉ with p = 1 + how many
    valid values are strictly worse (module docstring: equal values, equal scores)."""
    values = np.asarray(values, dtype=np.float64)
    valid = np.ones(values.size, dtype=bool) if valid is None else np.asarray(valid, bool)
    scores = np.zeros(values.size, dtype=np.int16)
    n = int(valid.sum())
    if n == 0:
        return scores
    goodness = values[valid] if higher_is_better else -values[valid]
    ordered = np.sort(goodness)
    worse = np.searchsorted(ordered, goodness, side="left")
    scores[valid] = -(-5 * (worse + 1) // n)  # ⌈5p/n⌉ in integers
    return scores


@dataclass(frozen=True)
class Scores:
    recency_days: np.ndarray  # −1 for never bought
    frequency: np.ndarray
    monetary: np.ndarray
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray


def rfm(summary: Summary, today: np.ndarray | int) -> Scores:
    """RFM values and quintile scores; `today` is each customer's local day number (or one
    for all)."""
    bought = summary.bought
    recency = np.where(bought, np.maximum(np.asarray(today) - summary.last_day, 0), -1)
    return Scores(recency_days=recency.astype(np.int64), frequency=summary.days,
                  monetary=summary.monetary,
                  r=quintile_scores(recency, bought, higher_is_better=False),
                  f=quintile_scores(summary.days, bought),
                  m=quintile_scores(summary.monetary, bought))


def tiers(scores: Scores) -> np.ndarray:
    """"high" | "medium" | "low" per customer (module docstring)."""
    total = scores.r.astype(np.int64) + scores.f + scores.m
    return np.where(total >= HIGH_FROM, "high",
                    np.where(total >= MEDIUM_FROM, "medium", "low")).astype("<U6")


def cost_to_serve(emails: np.ndarray, inbox: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Minor units: what delivering their messages and handling their orders cost so far."""
    return (COST_PER_EMAIL_MINOR * np.asarray(emails, dtype=np.int64)
            + COST_PER_INBOX_MINOR * np.asarray(inbox, dtype=np.int64)
            + COST_PER_ORDER_MINOR * np.asarray(orders, dtype=np.int64))


def current_value(monetary: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Margin so far less the cost to serve (minor units, may be negative)."""
    return MARGIN_RATE * np.asarray(monetary, dtype=np.float64) - np.asarray(cost, np.float64)


def potential(clv_minor: np.ndarray) -> np.ndarray:
    """The margin still to come: MARGIN_RATE × the discounted CLV."""
    return MARGIN_RATE * np.asarray(clv_minor, dtype=np.float64)


def value_groups(current: np.ndarray, future: np.ndarray) -> np.ndarray:
    """"most_valuable" | "most_growable" | "below_zero" | "other" (module docstring)."""
    current = np.asarray(current, dtype=np.float64)
    future = np.asarray(future, dtype=np.float64)
    below = current + future < 0
    valuable = ~below & (current > 0) & (quintile_scores(current, current > 0) == 5)
    growable_pool = ~below & (future > 0)
    growable = ~below & ~valuable & (quintile_scores(future, growable_pool) == 5)
    return np.select([below, valuable, growable], ["below_zero", "most_valuable",
                                                   "most_growable"], "other").astype("<U13")
