"""WHO Child Growth Standards (2006): z-scores, percentiles and chart curves as plain functions.

Every indicator is an LMS table (Box-Cox power L, median M, coefficient of variation S) shipped
in `diary/growth_data/` with its source named there. A measurement X has
z = ((X/M)**L - 1) / (L*S), or ln(X/M)/S when L is 0. For the weight-based indicators WHO
restricts the tails beyond ±3 SD (the extreme LMS curves are not trusted there), so z keeps
growing linearly in X at the spacing between the 2 and 3 SD curves.

Ages are in days since birth, 0-1826 (WHO's daily tables stop at 60 months and WHO computes no
z-score past them). Length/height follows WHO: recumbent length before 731 days, standing height
from 731 days; the tables already switch there and no 0.7 cm conversion is applied here.
"""
from __future__ import annotations

import csv
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from scipy.stats import norm

from diary.errors import N_, ValidationError

INDICATORS = ("wfa", "lhfa", "hcfa", "bmifa")  # age-based; "wfl"/"wfh" are indexed by cm
SEXES = ("female", "male")
MAX_AGE_DAYS = 1826  # last row of WHO's daily tables (60 months)
LENGTH_UNTIL_DAYS = 731  # WHO: lying length below this age, standing height from it
# z for the P3/P15/P50/P85/P97 lines drawn on charts (norm.ppf of the percentile, 6 decimals)
PERCENTILE_LINES = {3: -1.880794, 15: -1.036433, 50: 0.0, 85: 1.036433, 97: 1.880794}

_DATA = Path(__file__).with_name("growth_data")
_CM_TABLES = ("wfl", "wfh")
_RESTRICTED = frozenset({"wfa", "bmifa", "wfl", "wfh"})  # WHO's restricted tails apply here
# Upper bounds no child under five can reach: a typo guard, not a clinical judgement.
_LIMITS = {"wfa": (60.0, "kg", "weight_kg"), "lhfa": (150.0, "cm", "length_cm"),
           "hcfa": (70.0, "cm", "head_cm"), "bmifa": (50.0, "kg/m²", "bmi"),
           "wfl": (60.0, "kg", "weight_kg"), "wfh": (60.0, "kg", "weight_kg")}


class GrowthError(ValidationError):
    """A growth question the standards cannot answer: bad indicator, sex, age or measurement."""


@dataclass(frozen=True)
class LMS:
    """One point of a WHO curve: Box-Cox power L, median M, coefficient of variation S."""

    L: float
    M: float
    S: float

    def value(self, z: float) -> float:
        """The measurement at z on the plain LMS curve (no tail restriction)."""
        if abs(self.L) < 1e-10:
            return self.M * math.exp(self.S * z)
        base = 1 + self.L * self.S * z
        if base <= 0:
            raise GrowthError(N_("That z-score is beyond what the growth standard describes."), "z")
        return self.M * base ** (1 / self.L)

    def z(self, x: float) -> float:
        """The plain LMS z-score of measurement x."""
        if abs(self.L) < 1e-10:
            return math.log(x / self.M) / self.S
        return ((x / self.M) ** self.L - 1) / (self.L * self.S)


@cache
def _table(indicator: str) -> dict[str, tuple[list[float], list[LMS]]]:
    """Read one CSV once: per sex, the sorted x values and their LMS rows."""
    out: dict[str, tuple[list[float], list[LMS]]] = {sex: ([], []) for sex in SEXES}
    with (_DATA / f"{indicator}.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            xs, rows = out[row["sex"]]
            xs.append(float(row["x"]))
            rows.append(LMS(float(row["L"]), float(row["M"]), float(row["S"])))
    return out


def _check_indicator(indicator: str, allowed: tuple[str, ...]) -> None:
    if indicator not in allowed:
        raise GrowthError(N_("Unknown growth indicator %(name)s."), "indicator",
                          name=str(indicator))


def _check_sex(sex: str) -> None:
    if sex not in SEXES:
        raise GrowthError(N_("Choose female or male for the growth standards."), "sex")


def _float(x: object) -> float | None:
    """x as a finite float (ints and Decimals from the database welcome), else None."""
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _age(age_days: float) -> float:
    age = _float(age_days)
    if age is None or not 0 <= age <= MAX_AGE_DAYS:
        raise GrowthError(N_("Growth standards cover birth to 5 years."), "age_days")
    return age


def _measurement(indicator: str, value: float) -> float:
    limit, unit, field = _LIMITS[indicator]
    x = _float(value)
    if x is None or x <= 0:
        raise GrowthError(N_("Please enter a measurement greater than zero."), field)
    if x > limit:
        raise GrowthError(N_("%(value)s %(unit)s is an impossible value; please check it."),
                          field, value=f"{x:g}", unit=unit)
    return x


def _interpolate(a: LMS, b: LMS, t: float) -> LMS:
    return LMS(a.L + (b.L - a.L) * t, a.M + (b.M - a.M) * t, a.S + (b.S - a.S) * t)


def lms(indicator: str, sex: str, x: float) -> LMS:
    """L, M, S at age x days (or x cm for "wfl"/"wfh"); between rows L, M and S are linear.

    Age tables hold one row per day, so row i is day i; the cm tables are searched with bisect.
    """
    _check_indicator(indicator, INDICATORS + _CM_TABLES)
    _check_sex(sex)
    xs, rows = _table(indicator)[sex]
    if indicator in _CM_TABLES:
        cm = _float(x)
        if cm is None or not xs[0] - 1e-9 <= cm <= xs[-1] + 1e-9:
            message = (N_("Weight-for-length covers lengths from %(low)s to %(high)s cm.")
                       if indicator == "wfl" else
                       N_("Weight-for-height covers heights from %(low)s to %(high)s cm."))
            raise GrowthError(message, "length_cm", low=f"{xs[0]:g}", high=f"{xs[-1]:g}")
        i = min(max(bisect_right(xs, cm) - 1, 0), len(xs) - 1)
        if i == len(xs) - 1 or abs(cm - xs[i]) < 1e-9:
            return rows[i]
        if abs(cm - xs[i + 1]) < 1e-9:
            return rows[i + 1]
        return _interpolate(rows[i], rows[i + 1], (cm - xs[i]) / (xs[i + 1] - xs[i]))
    age = _age(x)
    i = int(age)
    if i == age or i == len(rows) - 1:
        return rows[i]
    return _interpolate(rows[i], rows[i + 1], age - i)


def _z(indicator: str, sex: str, x: float, value: float) -> float:
    """z-score with WHO's restricted tails for the weight-based indicators."""
    value = _measurement(indicator, value)
    p = lms(indicator, sex, x)
    z = p.z(value)
    if indicator in _RESTRICTED and z > 3:
        sd3, sd2 = p.value(3), p.value(2)
        return 3 + (value - sd3) / (sd3 - sd2)
    if indicator in _RESTRICTED and z < -3:
        sd3neg, sd2neg = p.value(-3), p.value(-2)
        return -3 + (value - sd3neg) / (sd2neg - sd3neg)
    return z


def zscore(indicator: str, sex: str, age_days: float, value: float) -> float:
    """How many SDs `value` (kg, cm or kg/m²) lies from the WHO median for sex and age."""
    _check_indicator(indicator, INDICATORS)
    _check_sex(sex)
    return _z(indicator, sex, _age(age_days), value)


def percentile(indicator: str, sex: str, age_days: float, value: float) -> float:
    """The percentile (0-100) of `value`: the normal CDF of its z-score, as WHO charts use."""
    return z_to_percentile(zscore(indicator, sex, age_days, value))


def z_to_percentile(z: float) -> float:
    """0-100 from a z-score (standard normal CDF)."""
    return float(norm.cdf(z) * 100)


def value_at(indicator: str, sex: str, age_days: float, z: float) -> float:
    """The measurement at z-score `z`: the inverse of `zscore`, tails included."""
    _check_indicator(indicator, INDICATORS)
    zf = _float(z)
    if zf is None:
        raise GrowthError(N_("That z-score is beyond what the growth standard describes."), "z")
    p = lms(indicator, sex, age_days)
    if indicator in _RESTRICTED and zf > 3:
        sd3 = p.value(3)
        return sd3 + (zf - 3) * (sd3 - p.value(2))
    if indicator in _RESTRICTED and zf < -3:
        sd3neg = p.value(-3)
        return sd3neg + (zf + 3) * (p.value(-2) - sd3neg)
    return p.value(zf)


def weight_for_length_z(sex: str, age_days: float, length_cm: float, weight_kg: float) -> float:
    """Weight-for-length z below 731 days (lying length), weight-for-height from then (standing).

    This is WHO's switch at 24 months; a length outside the chosen table raises GrowthError.
    """
    _check_sex(sex)
    age = _age(age_days)
    length = _measurement("lhfa", length_cm)
    return _z("wfl" if age < LENGTH_UNTIL_DAYS else "wfh", sex, length, weight_kg)


def bmi(weight_kg: float, length_cm: float) -> float:
    """Body-mass index in kg/m² from weight in kg and length/height in cm."""
    return _measurement("wfa", weight_kg) / (_measurement("lhfa", length_cm) / 100) ** 2


def curves(indicator: str, sex: str, start_days: int, end_days: int,
           step_days: int = 7) -> dict[int, list[tuple[int, float]]]:
    """Chart lines: for each percentile in PERCENTILE_LINES, [(age_days, value)] from start to end.

    Points fall every `step_days` from `start_days`; `end_days` is always the last point.
    """
    _check_indicator(indicator, INDICATORS)
    _check_sex(sex)
    _age(start_days)
    _age(end_days)
    if end_days < start_days or step_days < 1:
        raise GrowthError(N_("Choose an age range that runs forwards."), "end_days")
    ages = list(range(start_days, end_days + 1, step_days))
    if ages[-1] != end_days:
        ages.append(end_days)
    return {p: [(a, value_at(indicator, sex, a, z)) for a in ages]
            for p, z in PERCENTILE_LINES.items()}


def length_curves(sex: str, age_days: float, start_cm: float, end_cm: float,
                  step_cm: float = 1.0) -> dict[int, list[tuple[float, float]]]:
    """Weight-for-length (or -height from 731 days) lines: percentile -> [(cm, kg)]."""
    _check_sex(sex)
    table = "wfl" if _age(age_days) < LENGTH_UNTIL_DAYS else "wfh"
    if end_cm < start_cm or step_cm <= 0:
        raise GrowthError(N_("Choose a length range that runs forwards."), "end_cm")
    count = int(round((end_cm - start_cm) / step_cm))
    lengths = [round(start_cm + i * step_cm, 1) for i in range(count + 1)]
    return {p: [(cm, lms(table, sex, cm).value(z)) for cm in lengths]
            for p, z in PERCENTILE_LINES.items()}
