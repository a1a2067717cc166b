"""Languages and the human formatting of ages, dates and measurements."""
from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from babel.lists import format_list
from flask import Flask, current_app, request, session
from flask_babel import format_date, get_locale, gettext, lazy_gettext, ngettext
from flask_login import current_user

from diary import age as agemath
from diary import units
from diary.errors import DiaryError, Term
from diary.models import Child
from webapp.extensions import babel

LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else the browser's."""
    if current_user and current_user.is_authenticated:
        code = current_user.locale
    elif session.get("lang") in current_app.config["LANGUAGES"]:
        code = session["lang"]
    else:
        best = request.accept_languages.best_match(["en", "zh_CN", "zh"])
        code = "zh_CN" if best and best.startswith("zh") else "en"
    # Babel parses "zh_CN" as zh_Hans_CN; the catalogue lives under that name.
    return code


@functools.lru_cache(maxsize=64)
def _parsed_locale(code: str) -> Locale:
    """Babel parses a locale code on every request (about 0.14 ms for zh_CN); a parsed
    Locale is given back as it is."""
    return Locale.parse(code)


def current_locale() -> str:
    """Our code for the request's language ("en" / "zh_CN"); Babel itself says zh_Hans_CN."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def join_list(parts: list[str], style: str = "standard") -> str:
    """"a, b and c" in the reader's language ("a、b和c" in Chinese); style "or" for
    alternatives. Babel knows each language's separators, so no ", " is hard-coded."""
    return format_list([str(p) for p in parts], style=style, locale=current_locale()) \
        if parts else ""


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=lambda: _parsed_locale(select_locale()),
                   timezone_selector=select_timezone)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, current_locale=current_locale,
        describe_child_age=describe_child_age, format_weight=format_weight,
        format_length=format_length, format_temperature=format_temperature,
        local_datetime=local_datetime, local_date=local_date_text, kind_label=kind_label,
        kind_icon=kind_icon, age_label=entry_age_label, format_month=format_month,
        html_lang=lambda: "zh-CN" if current_locale() == "zh_CN" else "en",
    )


def translate_error(error: DiaryError) -> str:
    """Translate a domain error's template, and those parameters that are our own words
    (marked with `N_`); values a person typed are shown as they are."""
    params = {k: gettext(v) if isinstance(v, Term) else v for k, v in error.params.items()}
    return gettext(error.message, **params) if params else gettext(error.message)


def format_age(age: agemath.Age) -> str:
    parts = agemath.describe_age(age)
    major = _unit(parts.unit, parts.major)
    if parts.minor_unit and parts.minor:
        return gettext("%(major)s %(minor)s", major=major, minor=_unit(parts.minor_unit,
                                                                       parts.minor))
    return major


def _unit(unit: str, n: int) -> str:
    if unit == "days":
        return ngettext("%(num)d day", "%(num)d days", n)
    if unit == "weeks":
        return ngettext("%(num)d week", "%(num)d weeks", n)
    if unit == "months":
        return ngettext("%(num)d month", "%(num)d months", n)
    return ngettext("%(num)d year", "%(num)d years", n)


def child_today(child: Child) -> date:
    return agemath.local_today(child.family.timezone)


def describe_child_age(child: Child, on: date | None = None) -> dict[str, Any]:
    """Headline and details for a child on a date (default: today in the family's zone)."""
    on = on or child_today(child)
    if not child.is_born:
        assert child.due_date is not None
        try:
            p = agemath.pregnancy_progress(child.due_date, on)
        except ValueError:
            return {"headline": gettext("Due on %(date)s", date=format_date(child.due_date)),
                    "detail": "", "stage": "pregnancy"}
        if p.overdue:
            headline = gettext("Week %(weeks)d+%(days)d: your due date has passed",
                               weeks=p.weeks, days=p.days)
            detail = gettext("Has the baby arrived? Tell us and the diary moves on.")
        else:
            headline = gettext("Week %(weeks)d of pregnancy", weeks=p.weeks)  # 20+3 is week 20
            detail = ngettext("%(num)d day to go · trimester %(t)d",
                              "%(num)d days to go · trimester %(t)d", p.days_to_due,
                              t=p.trimester)
        return {"headline": headline, "detail": detail, "stage": "pregnancy",
                "weeks": p.weeks, "days": p.days, "trimester": p.trimester}
    assert child.birth_date is not None
    if on < child.birth_date:
        return {"headline": gettext("Before birth"), "detail": "", "stage": "pregnancy"}
    chrono = agemath.age_on(child.birth_date, on)
    headline = gettext("%(name)s is %(age)s old", name=child.name, age=format_age(chrono)) \
        if chrono.days else gettext("%(name)s was born today!", name=child.name)
    detail = ""
    corrected = agemath.corrected_age_on(child.birth_date, child.gestational_weeks_at_birth,
                                         child.gestational_days_at_birth, on)
    if corrected is not None:
        if corrected.days >= 0:
            detail = gettext("Corrected age %(age)s (born at %(w)d+%(d)d weeks)",
                             age=format_age(corrected), w=child.gestational_weeks_at_birth,
                             d=child.gestational_days_at_birth or 0)
        else:
            detail = ngettext("%(num)d day before the original due date",
                              "%(num)d days before the original due date", -corrected.days)
    return {"headline": headline, "detail": detail, "stage": "baby", "age": chrono,
            "short": format_age(chrono)}


def entry_age_label(child: Child, when: datetime) -> str:
    """The child's age (or pregnancy week) on the local date of an entry."""
    on = agemath.local_date(when, child.family.timezone)
    if child.birth_date and on >= child.birth_date:
        return format_age(agemath.age_on(child.birth_date, on))
    due = child.due_date
    if due is not None:
        try:
            p = agemath.pregnancy_progress(due, on)
            return gettext("Pregnancy week %(weeks)d+%(days)d", weeks=p.weeks, days=p.days)
        except ValueError:
            return ""
    return ""


def local_datetime(value: datetime, tz: str | None = None, date_skeleton: str = "yMMMd") -> str:
    """An instant as a person in `tz` reads it: "Nov 23, 2026 10:00 AM" / "2026年11月23日 10:00"."""
    local = value.astimezone(ZoneInfo(tz or select_timezone()))
    locale = get_locale() or "en"
    time_text = babel_format_time(local.time(), "short", locale=locale)
    return f"{format_skeleton(date_skeleton, local.date(), locale=locale)} {time_text}"


def local_date_text(value: date | datetime, fmt: str = "medium") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(select_timezone())).date()
    return format_date(value, fmt)


def format_month(value: datetime, tz: str) -> str:
    """"November 2026" / "2026年11月": the month of an instant in the family's zone."""
    return format_skeleton("yMMMM", value.astimezone(ZoneInfo(tz)).date(),
                           locale=get_locale() or "en")


def _imperial() -> bool:
    return bool(current_user and current_user.is_authenticated
                and current_user.unit_system == "imperial")


def format_weight(kg: float | None) -> str:
    if kg is None:
        return ""
    if _imperial():
        pounds, ounces = units.kg_to_lb_oz(kg)
        return gettext("%(lb)d lb %(oz)s oz", lb=pounds, oz=f"{ounces:g}")
    return gettext("%(kg)s kg", kg=f"{kg:.3f}".rstrip("0").rstrip("."))


def format_length(cm: float | None) -> str:
    if cm is None:
        return ""
    if _imperial():
        return gettext("%(inches)s in", inches=f"{units.cm_to_in(cm):.1f}")
    return gettext("%(cm)s cm", cm=f"{cm:.1f}")


def format_temperature(celsius: float | None) -> str:
    if celsius is None:
        return ""
    if _imperial():
        return f"{units.c_to_f(celsius):.1f} °F"
    return f"{celsius:.1f} °C"


KIND_LABELS = {
    "note": lazy_gettext("Note"), "photo": lazy_gettext("Photo"),
    "milestone": lazy_gettext("Milestone"), "measurement": lazy_gettext("Measurement"),
    "feeding": lazy_gettext("Feeding"), "sleep": lazy_gettext("Sleep"),
    "diaper": lazy_gettext("Diaper"), "temperature": lazy_gettext("Temperature"),
    "medication": lazy_gettext("Medication"), "bump": lazy_gettext("Bump photo"),
    "scan": lazy_gettext("Scan"), "kicks": lazy_gettext("Kicks"),
    "feeling": lazy_gettext("How I feel"),
}


KIND_ICONS = {"note": "📝", "photo": "📷", "milestone": "⭐", "measurement": "📏",
              "feeding": "🍼", "sleep": "😴", "diaper": "🧷", "temperature": "🌡️",
              "medication": "💊", "bump": "🤰", "scan": "🩻", "kicks": "👣", "feeling": "💗"}


def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "•")


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
