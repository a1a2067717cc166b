"""Chart data and words for the growth page, in the viewer's units and language."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from diary import growth, growth_report, units
from diary.growth_report import DAYS_PER_MONTH, Point, Sample, Trend
from diary.models import Child
from webapp.i18n import current_locale, format_length, format_weight, local_date_text, number

INDICATORS = growth_report.CHART_INDICATORS
TITLES = {"wfa": _l("Weight for age"), "lhfa": _l("Length/height for age"),
          "hcfa": _l("Head circumference for age"), "bmifa": _l("BMI for age"),
          "wflh": _l("Weight for length/height")}


def _imperial() -> bool:
    return units.uses_imperial(current_user)


def y_unit(indicator: str) -> str:
    if indicator == "bmifa":
        return "kg/m²"
    if indicator in ("wfa", "wflh"):
        return "lb" if _imperial() else "kg"
    return "in" if _imperial() else "cm"


def to_display(indicator: str, value: float) -> float:
    """Numbers for the chart axis in the viewer's units."""
    unit = y_unit(indicator)
    if unit == "lb":
        return round(value / units.KG_PER_LB, 2)
    if unit == "in":
        return round(units.cm_to_in(value), 2)
    return round(value, 2)


def format_value(indicator: str, value: float) -> str:
    if indicator in ("wfa", "wflh"):
        return format_weight(value)
    if indicator == "bmifa":
        return f"{number(value)} kg/m²"
    return format_length(value)


def format_percentile(p: float) -> str:
    """"45th percentile" / "第 45 百分位"; the extremes as "below the 1st" / "above the 99th"."""
    if p < 1:
        return gettext("below the 1st percentile")
    if p > 99:
        return gettext("above the 99th percentile")
    n = int(round(p))
    suffix = ""  # English ordinals only; other languages' catalogues place the number alone
    if current_locale() == "en":
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return gettext("%(n)d%(suffix)s percentile", n=n, suffix=suffix)


def _x_range(indicator: str, points: list[Point], child: Child) -> tuple[float, float]:
    if indicator == "wflh":
        days = points[-1].age_days if points else 0
        table_low, table_high = (45.0, 110.0) if days < 731 else (65.0, 120.0)
        if not points:
            return table_low, min(table_high, table_low + 30)
        low = max(table_low, math.floor(min(p.x for p in points) - 5))
        high = min(table_high, math.ceil(max(p.x for p in points) + 5))
        return low, high
    latest = points[-1].age_days if points else 0
    months = max(6.0, math.ceil(latest / DAYS_PER_MONTH * 1.25 + 1))
    return 0.0, min(60.0, months) * DAYS_PER_MONTH


def chart_json(child: Child, indicator: str, rows: list[Sample]) -> dict[str, Any]:
    points = growth_report.series(child, indicator, rows)
    low, high = _x_range(indicator, points, child)
    sex = child.sex or "female"
    if indicator == "wflh":
        days = points[-1].age_days if points else 0
        lines = growth.length_curves(sex, days, low, high)
    else:
        step = 7 if high <= 731 else 30
        lines = growth.curves(indicator, sex, int(low), int(high), step)
    per_age = indicator != "wflh"

    def x_of(x: float) -> float:
        if per_age:
            return round(x / DAYS_PER_MONTH, 3)
        return round(units.cm_to_in(x), 2) if _imperial() else round(x, 1)

    return {
        "indicator": indicator,
        "title": str(TITLES[indicator]),
        "x_label": gettext("Age (months)") if per_age else
        (gettext("Length/height (in)") if _imperial() else gettext("Length/height (cm)")),
        "y_label": y_unit(indicator),
        "lines": {str(p): [[x_of(x), to_display(indicator, v)] for x, v in line]
                  for p, line in lines.items()},
        "points": [{
            "x": x_of(p.x), "y": to_display(indicator, p.value),
            "date": local_date_text(p.on), "age": _age_text(p),
            "value": format_value(indicator, p.value),
            "percentile": format_percentile(p.percentile),
        } for p in points],
    }


def _age_text(point: Point) -> str:
    """"5 weeks", "7.5 months", "(corrected)" when the corrected age was used."""
    if point.age_days < 14 * 7:
        text = ngettext("%(num)d week", "%(num)d weeks", point.age_days // 7) \
            if point.age_days >= 14 else ngettext("%(num)d day", "%(num)d days", point.age_days)
    else:
        text = gettext("%(months)s months", months=f"{point.age_days / DAYS_PER_MONTH:.1f}")
    return gettext("%(age)s (corrected)", age=text) if point.corrected else text


@dataclass
class Panel:
    indicator: str
    title: str
    data_url: str
    points: list[Point]
    trend: Trend | None
    summary: str
    change: str
    velocity: str
    crossing: str
    rows: list[dict[str, str]]


def panel(child: Child, indicator: str, rows: list[Sample]) -> Panel:
    points = growth_report.series(child, indicator, rows)
    t = growth_report.trend(indicator, points)
    summary = change = velocity = crossing = ""
    if t is not None:
        summary = gettext("Latest: %(value)s on %(date)s – %(percentile)s.",
                          value=format_value(indicator, t.latest.value),
                          date=local_date_text(t.latest.on),
                          percentile=format_percentile(t.latest.percentile))
        if t.change is not None and t.days:
            sign = "+" if t.change >= 0 else "−"
            change = ngettext("%(sign)s%(amount)s since the measurement %(num)d day before.",
                              "%(sign)s%(amount)s since the measurement %(num)d days before.",
                              t.days, sign=sign, amount=format_value(indicator, abs(t.change)))
        if t.velocity is not None:
            velocity = _velocity_text(indicator, t.velocity)
        if t.crossed_lines >= 2 and t.crossed_since is not None:
            crossing = gettext(
                "Since %(date)s this measurement has moved across %(count)d of the main "
                "percentile lines. Children's curves do shift, and this is often nothing to worry "
                "about, but it is worth talking to your doctor or child health nurse about it "
                "at the next check-up.", date=local_date_text(t.crossed_since),
                count=t.crossed_lines)
    table = [{"date": local_date_text(p.on), "age": _age_text(p),
              "value": format_value(indicator, p.value),
              "percentile": format_percentile(p.percentile)} for p in reversed(points)]
    return Panel(indicator, str(TITLES[indicator]),
                 url_for("growth.chart_data", child_id=child.id, indicator=indicator),
                 points, t, summary, change, velocity, crossing, table)


def _velocity_text(indicator: str, velocity: float) -> str:
    if indicator == "wfa":
        if _imperial():
            return gettext("About %(amount)s oz a week.",
                           amount=number(velocity / 1000 / units.KG_PER_LB * 16))
        return gettext("About %(amount)d g a week.", amount=round(velocity))
    amount = units.cm_to_in(velocity) if _imperial() else velocity
    unit = "in" if _imperial() else "cm"
    return gettext("About %(amount)s %(unit)s a month.", amount=number(amount), unit=unit)


def entry_percentiles(child: Child, entry_id: int, rows: list[Sample]) -> list[tuple[str, str,
                                                                                      str]]:
    """(chart title, value, percentile) for one measurement entry, shown right after saving."""
    found = []
    for indicator in INDICATORS:
        for point in growth_report.series(child, indicator, rows):
            if point.entry_id == entry_id:
                found.append((str(TITLES[indicator]), format_value(indicator, point.value),
                              format_percentile(point.percentile)))
    return found
