"""A child's measurements against the WHO standards, and against her own past.

Points use the corrected age for babies born before 37 weeks until 24 months (chronological),
as WHO and paediatric practice do; measurements taken before the corrected due date are
left off the chart (the standards start at term). Comparisons are only ever with the same
child's earlier measurements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from diary import age as agemath
from diary import growth
from diary.errors import N_, ValidationError
from diary.models import Child, Entry

CHART_INDICATORS = ("wfa", "lhfa", "hcfa", "bmifa", "wflh")
DAYS_PER_MONTH = 30.4375
CROSSING_WINDOW_DAYS = 183
MAJOR_LINES = sorted(growth.PERCENTILE_LINES.values())


@dataclass(frozen=True)
class Sample:
    on: date
    entry_id: int | None  # None for the birth measurements on the child's profile
    weight_kg: float | None
    length_cm: float | None
    head_cm: float | None


@dataclass(frozen=True)
class Point:
    on: date
    entry_id: int | None
    age_days: int  # the age the standard was read at (corrected when that applies)
    corrected: bool
    x: float  # age in days, or length in cm for weight-for-length/height
    value: float  # kg, cm or kg/m²
    z: float
    percentile: float


@dataclass(frozen=True)
class Trend:
    latest: Point
    previous: Point | None
    change: float | None  # value change since the previous measurement
    days: int | None
    velocity: float | None  # g/week for weight, cm/month for length and head
    crossed_lines: int  # major percentile lines crossed within the window
    crossed_since: date | None


def samples(session: Session, child: Child) -> list[Sample]:
    """Birth measurements plus every measurement entry, oldest first (dates in family time)."""
    if not child.is_born:
        raise ValidationError(N_("Growth charts start once your baby is born."))
    rows: list[Sample] = []
    if any(v is not None for v in (child.birth_weight_kg, child.birth_length_cm,
                                   child.birth_head_cm)):
        assert child.birth_date is not None
        rows.append(Sample(child.birth_date, None, child.birth_weight_kg, child.birth_length_cm,
                           child.birth_head_cm))
    entries = session.scalars(
        select(Entry).where(Entry.child_id == child.id, Entry.kind == "measurement")
        .order_by(Entry.occurred_at, Entry.id).options(joinedload(Entry.measurement)))
    tz = child.family.timezone
    for entry in entries:
        m = entry.measurement
        if m is not None:
            rows.append(Sample(agemath.local_date(entry.occurred_at, tz), entry.id, m.weight_kg,
                               m.length_cm, m.head_cm))
    return rows


def chart_age(child: Child, on: date) -> tuple[int, bool] | None:
    """(age in days, corrected?) to read the standard at, or None before term/after 5 years."""
    assert child.birth_date is not None
    if on < child.birth_date:
        return None
    corrected = agemath.corrected_age_on(child.birth_date, child.gestational_weeks_at_birth,
                                         child.gestational_days_at_birth, on)
    if corrected is not None:
        return (corrected.days, True) if corrected.days >= 0 else None
    days = (on - child.birth_date).days
    return (days, False) if days <= growth.MAX_AGE_DAYS else None


def _reading(indicator: str, s: Sample) -> tuple[float, float] | None:
    """(x-value source, measured value) for an indicator, or None when not measured."""
    if indicator == "wfa":
        return (0, s.weight_kg) if s.weight_kg else None
    if indicator == "lhfa":
        return (0, s.length_cm) if s.length_cm else None
    if indicator == "hcfa":
        return (0, s.head_cm) if s.head_cm else None
    if s.weight_kg is None or s.length_cm is None:
        return None
    if indicator == "bmifa":
        return (0, growth.bmi(s.weight_kg, s.length_cm))
    return (s.length_cm, s.weight_kg)  # wflh


def series(child: Child, indicator: str, rows: list[Sample]) -> list[Point]:
    """The child's points on one chart, from `samples()` (read once for all five charts)."""
    if indicator not in CHART_INDICATORS:
        raise ValidationError(N_("Unknown growth chart."), "indicator")
    points = []
    for s in rows:
        reading = _reading(indicator, s)
        age = chart_age(child, s.on)
        if reading is None or age is None:
            continue
        length, value = reading
        days, corrected = age
        try:
            if indicator == "wflh":
                z = growth.weight_for_length_z(child.sex or "", days, length, value)
            else:
                z = growth.zscore(indicator, child.sex or "", days, value)
        except ValidationError:
            continue  # outside the standard's range (e.g. a length off the table)
        points.append(Point(on=s.on, entry_id=s.entry_id, age_days=days, corrected=corrected,
                            x=length if indicator == "wflh" else days, value=value, z=z,
                            percentile=growth.z_to_percentile(z)))
    return points


def trend(indicator: str, points: list[Point]) -> Trend | None:
    """How the latest point compares with the child's own earlier ones."""
    if not points:
        return None
    latest = points[-1]
    previous = points[-2] if len(points) > 1 else None
    change = days = velocity = None
    if previous is not None:
        change = latest.value - previous.value
        days = (latest.on - previous.on).days
        if days > 0 and indicator == "wfa":
            velocity = change * 1000 / days * 7
        elif days > 0 and indicator in ("lhfa", "hcfa"):
            velocity = change / days * DAYS_PER_MONTH
    crossed, since = 0, None
    for earlier in points[:-1]:
        if (latest.on - earlier.on).days > CROSSING_WINDOW_DAYS:
            continue
        low, high = sorted((earlier.z, latest.z))
        count = sum(1 for line in MAJOR_LINES if low < line < high)
        if count > crossed:
            crossed, since = count, earlier.on
    return Trend(latest, previous, change, days, velocity, crossed, since)
