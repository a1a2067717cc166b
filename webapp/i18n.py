"""Languages and the human formatting of ages, dates and measurements."""
from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from flask import Flask, current_app, request, session
from flask_babel import format_date, lazy_gettext
from flask_login import current_user

from clock import utcnow
from diary import age as agemath
from diary import locales, units
from diary.entry_kinds import KINDS
from diary.errors import DiaryError, Term
from diary.models import Child
from diary.vocabulary import INTEREST_LABELS
from webapp.babel_fast import gettext, ngettext
from webapp.babel_fast import locale as get_locale
from webapp.extensions import babel

LANGUAGE_NAMES = locales.LANGUAGE_NAMES
#: Form choices: languages in their own words, interests translated when shown.
LOCALE_CHOICES = list(locales.LANGUAGE_NAMES.items())
INTEREST_CHOICES = [(code, lazy_gettext(label)) for code, label in INTEREST_LABELS.items()]
INTEREST_NAMES = dict(INTEREST_CHOICES)


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else the browser's."""
    if current_user and current_user.is_authenticated:
        return locales.locale_of(current_user)
    if session.get("lang") in locales.LOCALES:
        return str(session["lang"])
    # "zh" and "zh-TW" pick Chinese too; Babel parses "zh_CN" as zh_Hans_CN, the
    # catalogue's folder.
    return locales.reading_locale(request.accept_languages.best_match(
        [*locales.LOCALES, "zh"]))


def current_locale() -> str:
    """Our code for the request's language ("en" / "zh_CN"); Babel itself says zh_Hans_CN."""
    locale = get_locale()
    return locales.reading_locale(locale.language if locale is not None else None)


def join_list(parts: list[str], style: locales.ListStyle = "standard") -> str:
    """"a, b and c" in the reader's language ("a、b和c" in Chinese); style "or" for
    alternatives. Babel knows each language's separators, so no ", " is hard-coded."""
    return locales.format_list(parts, current_locale(), style)


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


def init_app(app: Flask) -> None:
    # One catalogue for pages, emails and scheduler jobs (diary.locales reads it without Flask).
    app.config["BABEL_DEFAULT_LOCALE"] = locales.DEFAULT_LOCALE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(locales.CATALOGUE_DIR)
    babel.init_app(app, locale_selector=lambda: locales.babel_locale(select_locale()),
                   timezone_selector=select_timezone)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, current_locale=current_locale,
        describe_child_age=describe_child_age, format_weight=format_weight,
        format_length=format_length, format_temperature=format_temperature,
        local_datetime=local_datetime, local_date=local_date_text, time_ago=time_ago,
        kind_label=kind_label, kind_icon=kind_icon, age_label=entry_age_label,
        format_month=format_month,
        INTEREST_NAMES=INTEREST_NAMES, join_list=join_list,
        html_lang=lambda code=None: locales.html_lang(code or current_locale()),
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
    short = format_age(chrono)
    headline = gettext("%(name)s is %(age)s old", name=child.name, age=short) \
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
            "short": short}


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


def time_ago(value: datetime) -> str:
    """"3 hours ago" in the reader's language, counted from the site's clock."""
    return locales.format_time_ago(value, utcnow(), current_locale())


def local_date_text(value: date | datetime, fmt: str = "medium") -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(select_timezone())).date()
    return _date_text(value, get_locale() or locales.babel_locale(locales.DEFAULT_LOCALE), fmt)


@functools.lru_cache(maxsize=4096)
def _date_text(value: date, locale: Locale, fmt: str) -> str:
    """Flask-Babel's format_date of a date (no time, so no zone; its default formats name
    Babel's own), kept: a page shows the same few dates again and again."""
    return babel_format_date(value, fmt, locale=locale)


def format_month(value: datetime, tz: str) -> str:
    """"November 2026" / "2026年11月": the month of an instant in the family's zone."""
    local = value.astimezone(ZoneInfo(tz))
    return _month_name(get_locale() or locales.babel_locale(locales.DEFAULT_LOCALE),
                       local.year, local.month)



@functools.lru_cache(maxsize=4096)
def _month_name(locale: Locale, year: int, month: int) -> str:
    """Babel matches the skeleton to the language's patterns on every call (a timeline page
    names three or four months): each (language, month) is worked out once."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=locale)


def _imperial() -> bool:
    return units.uses_imperial(current_user)


def number(value: float, pattern: str = "#,##0.0") -> str:
    """A measurement's number in the reader's language (Babel, never hand-formatted)."""
    return locales.format_number(value, current_locale(), pattern)


def format_weight(kg: float | None) -> str:
    if kg is None:
        return ""
    if _imperial():
        pounds, ounces = units.kg_to_lb_oz(kg)
        return gettext("%(lb)d lb %(oz)s oz", lb=pounds, oz=number(ounces, "#,##0.#"))
    return gettext("%(kg)s kg", kg=number(kg, "#,##0.###"))


def format_length(cm: float | None) -> str:
    if cm is None:
        return ""
    if _imperial():
        return gettext("%(inches)s in", inches=number(units.cm_to_in(cm)))
    return gettext("%(cm)s cm", cm=number(cm))


def format_temperature(celsius: float | None) -> str:
    if celsius is None:
        return ""
    if _imperial():
        return f"{number(units.c_to_f(celsius))} °F"
    return f"{number(celsius)} °C"


def kind_icon(kind: str) -> str:
    found = KINDS.get(kind)
    return found.icon if found is not None else "•"


def kind_label(kind: str) -> str:
    """A kind of entry as parents read it (diary.entry_kinds.KINDS names them all)."""
    found = KINDS.get(kind)
    return gettext(found.label) if found is not None else kind
