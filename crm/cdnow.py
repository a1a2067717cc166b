"""The CDNOW data set: the public yardstick for BG/NBD and Gamma-Gamma.

CDNOW's customers who first bought in the first quarter of 1997, with every purchase until
June 1998 (23,570 customers; a 2,357-customer sample). The files come inside the
`Lifetimes==0.11.3` wheel (installed with `pip install --no-deps`, as a test and bench extra);
only its data files are read here, never its code — the package is found without being
imported.

`summary(transactions)` makes the calibration summary the published fits use: the period ends
on 1997-09-30 (39 weeks after the cohort's first day), time in weeks; per customer
`frequency` = distinct purchase days − 1, `recency` = weeks from the first purchase day to
the last, `T` = weeks from the first purchase day to the end, and `mean_spend` = the mean
spend of the repeat purchase days (the first day left out; 0 without a repeat).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

PACKAGE = "lifetimes"
WHEEL = "Lifetimes==0.11.3"
CALIBRATION_END = date(1997, 9, 30)
#: Published fits on the 2,357-customer sample (Fader, Hardie & Lee 2005; Fader & Hardie 2013).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.43
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
_EPOCH = date(1970, 1, 1).toordinal()


class MissingData(FileNotFoundError):
    """The data wheel is not installed."""


def data_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise MissingData(f"CDNOW comes with the {WHEEL} wheel: pip install --no-deps "
                          f"{WHEEL} (make install does it)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@dataclass(frozen=True)
class Transactions:
    customer: np.ndarray  # int64 customer ids
    day: np.ndarray  # int64 days since 1970-01-01
    amount: np.ndarray  # float64 dollars


@dataclass(frozen=True)
class Summary:
    customer: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    mean_spend: np.ndarray

    def __len__(self) -> int:
        return int(self.customer.size)


def _days(yyyymmdd: np.ndarray) -> np.ndarray:
    values = yyyymmdd.astype(np.int64)
    dates = np.array([f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}" for v in
                      np.unique(values)], dtype="datetime64[D]")
    lookup = dict(zip(np.unique(values).tolist(), dates.astype(np.int64).tolist(),
                      strict=True))
    return np.array([lookup[v] for v in values.tolist()], dtype=np.int64)


def _read(path: Path, id_column: int, skip: int) -> Transactions:
    if not path.exists():
        raise MissingData(f"{path} is missing: reinstall {WHEEL}")
    table = np.loadtxt(path, skiprows=skip, dtype=np.float64)
    return Transactions(customer=table[:, id_column].astype(np.int64),
                        day=_days(table[:, id_column + 1]),
                        amount=table[:, id_column + 3])


def sample_transactions(folder: Path | None = None) -> Transactions:
    """The 2,357-customer sample; the customer is the sample's own ID (the summaries' ID)."""
    return _read((folder or data_dir()) / "CDNOW_sample.txt", id_column=1, skip=0)


def master_transactions(folder: Path | None = None) -> Transactions:
    """Every customer (23,570)."""
    return _read((folder or data_dir()) / "CDNOW_master.txt", id_column=0, skip=1)


def summary(data: Transactions, end: date = CALIBRATION_END) -> Summary:
    """The calibration summary (module docstring), customers in id order. Customers with no
    purchase by `end` are left out."""
    end_day = end.toordinal() - _EPOCH
    keep = data.day <= end_day
    customer, day, amount = data.customer[keep], data.day[keep], data.amount[keep]
    # one row per (customer, day) with the day's spend
    order = np.lexsort((day, customer))
    customer, day, amount = customer[order], day[order], amount[order]
    new = np.ones(customer.size, dtype=bool)
    new[1:] = (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(new)
    cust_days, day_days = customer[starts], day[starts]
    spend = np.add.reduceat(amount, starts) if starts.size else amount[:0]
    first_row = np.ones(cust_days.size, dtype=bool)
    first_row[1:] = cust_days[1:] != cust_days[:-1]
    firsts = np.flatnonzero(first_row)
    ids = cust_days[firsts]
    counts = np.diff(np.append(firsts, cust_days.size))
    first_day = day_days[firsts]
    last_day = day_days[np.append(firsts[1:], cust_days.size) - 1]
    total = np.add.reduceat(spend, firsts) if firsts.size else spend[:0]
    repeat_spend = total - spend[firsts]
    frequency = counts - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_spend = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    return Summary(customer=ids, frequency=frequency.astype(np.int64),
                   recency=(last_day - first_day) / 7.0, T=(end_day - first_day) / 7.0,
                   mean_spend=mean_spend)


def published_summary(folder: Path | None = None) -> Summary:
    """`cdnow_customers_summary_with_transactions.csv` (ID, x, t_x, T, zbar) as published."""
    path = (folder or data_dir()) / "cdnow_customers_summary_with_transactions.csv"
    if not path.exists():
        raise MissingData(f"{path} is missing: reinstall {WHEEL}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return Summary(customer=table[:, 0].astype(np.int64), frequency=table[:, 1].astype(np.int64),
                   recency=table[:, 2], T=table[:, 3], mean_spend=table[:, 4])


def published_frequency_summary(folder: Path | None = None) -> Summary:
    """`cdnow_customers_summary.csv` (ID, frequency, recency, T); no spend in it."""
    path = (folder or data_dir()) / "cdnow_customers_summary.csv"
    if not path.exists():
        raise MissingData(f"{path} is missing: reinstall {WHEEL}")
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return Summary(customer=table[:, 0].astype(np.int64), frequency=table[:, 1].astype(np.int64),
                   recency=table[:, 2], T=table[:, 3], mean_spend=np.zeros(table.shape[0]))


def validate(folder: Path | None = None) -> dict[str, object]:
    """Fit both models on the sample's own calibration summary and compare with the
    published parameters: {"bgnbd": {...}, "gamma_gamma": {...}, "within_1_percent": bool}."""
    from crm import clv

    data = summary(sample_transactions(folder))
    bg = clv.fit_bgnbd(data.frequency, data.recency, data.T)
    repeat = data.frequency > 0
    gg = clv.fit_gamma_gamma(data.frequency[repeat], data.mean_spend[repeat])

    def compare(fitted: dict[str, float], published: dict[str, float]) -> dict[str, object]:
        return {name: {"fitted": round(fitted[name], 4), "published": value,
                       "relative_error": round(abs(fitted[name] - value) / abs(value), 5)}
                for name, value in published.items()}

    bg_rows = compare({**bg.as_dict(), "log_likelihood": bg.log_likelihood},
                      {**PUBLISHED_BGNBD, "log_likelihood": PUBLISHED_BGNBD_LL})
    gg_rows = compare(gg.as_dict(), PUBLISHED_GAMMA_GAMMA)
    worst = max(float(row["relative_error"])  # type: ignore[index]
                for rows in (bg_rows, gg_rows) for row in rows.values())
    return {"data": "CDNOW sample (2,357 customers; calibration to 1997-09-30, weeks)",
            "customers": len(data), "repeat_buyers": int(repeat.sum()),
            "bgnbd": bg_rows, "gamma_gamma": gg_rows,
            "max_relative_error": round(worst, 5), "within_1_percent": worst <= 0.01}
