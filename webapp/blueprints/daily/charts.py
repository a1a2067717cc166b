"""Server-drawn SVG charts of the daily summary: bars per day with the child's 7-day average
as a line, and the sleep rhythm as a 24-hour strip per day. Geometry only; the template
(templates/daily/_charts.html) draws it, so the page needs no script and no library."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_skeleton
from flask_babel import get_locale

from diary.daily_summary import Day
from webapp.babel_fast import gettext

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 12, 26
STRIP_HEIGHT, STRIP_GAP = 14, 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the hover text (and what a screen reader reads)
    #: Today's bar: the day is not over, so it is drawn lighter and says "so far".
    partial: bool = False


@dataclass
class BarChart:
    bars: list[Bar]
    average: str  # polyline points ("" when there is no average)
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_bottom: float = HEIGHT - BOTTOM


@dataclass
class Strip:
    y: float
    label: str
    spans: list[tuple[float, float]] = field(default_factory=list)  # (x, width)
    running: list[tuple[float, float]] = field(default_factory=list)  # a sleep timer's part


@dataclass
class Rhythm:
    strips: list[Strip]
    hours: list[tuple[float, str, str]]  # x of 0, 6, 12, 18, 24 h, label, text-anchor
    width: int = WIDTH
    height: int = 0
    left: int = LEFT


def day_label(day: Day) -> str:
    return format_skeleton("d", day.day, locale=get_locale() or "en")


def long_day_label(day: Day) -> str:
    return format_skeleton("MMMEd", day.day, locale=get_locale() or "en")


def week_label(first: date, last: date) -> str:
    """"Nov 30 – Dec 6" / "11月30日 – 12月6日"."""
    locale = get_locale() or "en"
    return f"{format_skeleton('MMMd', first, locale=locale)} – " \
        f"{format_skeleton('MMMd', last, locale=locale)}"


def _nice_top(value: float) -> tuple[float, float]:
    """A round top for the axis and its step (4 steps or so)."""
    if value <= 0:
        return 4.0, 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(value / step), step


def bar_chart(days: list[Day], values: list[float], averages: list[float | None],
              describe: Callable[[float], str], scale: float = 1.0,
              tick_text: Callable[[float], str] | None = None,
              today: date | None = None) -> BarChart:
    """`values` per day (drawn divided by `scale`, e.g. minutes as hours), the 7-day
    `averages` as a line; `describe` makes a value readable for hover titles, `tick_text`
    (else `describe`) for the axis. The bar of `today` is marked partial."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    shown = [v / scale for v in values] + [a / scale for a in averages if a is not None]
    top, step = _nice_top(max(shown, default=0))
    slot = plot_w / max(1, len(days))

    def y_of(value: float) -> float:
        return round(TOP + plot_h - value / top * plot_h, 1)

    bars, points, labels = [], [], []
    for i, (day, value, average) in enumerate(zip(days, values, averages, strict=True)):
        x = LEFT + i * slot
        y = y_of(value / scale)
        partial = day.day == today
        title = (gettext("%(day)s: %(value)s so far", day=long_day_label(day),
                         value=describe(value)) if partial
                 else f"{long_day_label(day)}: {describe(value)}")
        bars.append(Bar(round(x + slot * 0.15, 1), y, round(slot * 0.7, 1),
                        round(TOP + plot_h - y, 1), title, partial))
        if average is not None:
            points.append(f"{round(x + slot / 2, 1)},{y_of(average / scale)}")
        labels.append((round(x + slot / 2, 1), day_label(day)))
    tick_text = tick_text or describe
    ticks = [(y_of(step * k), tick_text(step * k * scale))
             for k in range(int(round(top / step)) + 1)]
    return BarChart(bars, " ".join(points) if len(points) > 1 else "", ticks, labels)


def rhythm(days: list[Day]) -> Rhythm:
    """One strip per day (newest at the bottom), sleep drawn where it fell in the 24 hours
    (a sleep timer still running apart, as `running`)."""
    plot_w = WIDTH - LEFT - RIGHT
    strips = []
    for i, day in enumerate(days):
        strip = Strip(TOP + i * (STRIP_HEIGHT + STRIP_GAP), day_label(day))
        for spans, out in ((day.sleep_spans, strip.spans), (day.running_spans, strip.running)):
            for first, last in spans:
                x = LEFT + first / day.day_minutes * plot_w
                out.append((round(x, 1), round(max(1.0, (last - first)
                                                   / day.day_minutes * plot_w), 1)))
        strips.append(strip)
    hours = [(round(LEFT + h / 24 * plot_w, 1), f"{h:02d}:00", "end" if h == 24 else "middle")
             for h in (0, 6, 12, 18, 24)]
    height = TOP + len(days) * (STRIP_HEIGHT + STRIP_GAP) + BOTTOM
    return Rhythm(strips, hours, height=height)
