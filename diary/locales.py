"""Languages: which ones the site speaks, which one a person reads, and words and numbers in it.

The one home for the site's locales and their names, for "which language does this person
read" and for the catalogue lookups and Babel formatting that emails and scheduler jobs need
without Flask. The web layer uses the same functions for the request's language, so a page
and an email say the same thing the same way.

- `LOCALES`: our codes ("en", "zh_CN"); `reading_locale(code)` maps anything a browser, a
  profile or Babel says ("zh", "zh-CN", "zh_Hans_CN") to one of them.
- `words(locale)`: the Babel catalogue (`webapp/translations/…/messages.po`, the same one
  the pages use) for an explicit locale, with Flask-Babel's `gettext`/`ngettext` behaviour.
- `format_price`, `format_number`, `format_list`, `format_date`: Babel with an explicit
  locale; nothing here spells a separator, a currency sign or a date order by hand.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_timedelta
from babel.lists import format_list as babel_format_list
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
    parse_pattern,
)
from babel.support import NullTranslations, Translations

from diary.errors import N_

#: The site's languages, by our code. English is the fallback for everything.
LOCALES: tuple[str, ...] = ("en", "zh_CN")
DEFAULT_LOCALE = "en"
#: Each language in its own words (the language switcher, the studio's columns).
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
#: Each language named in the reader's words, for sentences ("The Chinese title is missing").
LANGUAGE_LABELS: dict[str, str] = {"en": N_("English"), "zh_CN": N_("Chinese")}
#: The `lang` attribute of HTML for each code.
HTML_LANG: dict[str, str] = {"en": "en", "zh_CN": "zh-CN"}
#: Where the catalogues live: one `messages.po` per language serves pages and emails.
CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "webapp" / "translations"
DOMAIN = "messages"


class HasLocale(Protocol):
    locale: str


def reading_locale(code: object) -> str:
    """The site language for whatever names one: "zh", "zh-CN", "zh_Hans_CN", "ZH_cn" →
    "zh_CN"; "en-GB", "", None or a language we do not have → "en"."""
    text = str(code or "").strip().lower().replace("-", "_")
    return "zh_CN" if text == "zh" or text.startswith("zh_") else DEFAULT_LOCALE


def locale_of(person: HasLocale | None) -> str:
    """Which language this person reads (their profile's choice, else English)."""
    return reading_locale(person.locale if person is not None else None)


def html_lang(locale: object) -> str:
    return HTML_LANG[reading_locale(locale)]


def language_name(locale: str) -> str:
    return LANGUAGE_NAMES.get(locale, locale)


@lru_cache(maxsize=16)
def babel_locale(locale: str) -> Locale:
    """Babel's locale for our code ("zh_CN" is zh_Hans_CN to Babel; parsed once)."""
    return Locale.parse(reading_locale(locale))


# --- the catalogue ------------------------------------------------------------------------------

#: Han characters, kana, and the CJK and full-width punctuation that sits against them.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
#: A placeholder with the single space a translation may put on either side of it.
_PLACEHOLDER = re.compile(r"( ?)(?<!%)(%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z])( ?)")
_IS_CJK = re.compile(f"[{_CJK}]")


def interpolate(text: str, values: Any) -> str:
    """`text % values`, spaced as Chinese is written.

    A Chinese translation puts a space on each side of a placeholder ("现在为 %(name)s 推荐"),
    which is right when the value is Latin or a number ("现在为 Mia 推荐", "第 3 周") and
    wrong when the value is Chinese too ("现在为 小满 推荐"). Here a space between a Chinese
    character of the text and a value that starts (or ends) with one is dropped; every other
    space, and everything about `%` (escaping into Markup, `%%`, errors), is as `%` does it.
    English texts and texts without values never reach the pattern."""
    if not values or text.isascii() or not isinstance(values, dict):
        return text % values
    tightened = _PLACEHOLDER.sub(lambda m: _tight(m, text, values), text)
    if tightened != text:
        text = type(text)(tightened) if type(text) is not str else tightened
    return text % values


def _tight(m: re.Match[str], text: str, values: dict[str, Any]) -> str:
    before, spec, name, after = m.groups()
    if name not in values:
        return m.group(0)  # `%` says what is missing
    cjk_before = bool(before) and m.start() > 0 and _IS_CJK.match(text[m.start() - 1])
    cjk_after = bool(after) and m.end() < len(text) and _IS_CJK.match(text[m.end()])
    if not (cjk_before or cjk_after):
        return m.group(0)
    try:
        value = str(spec % {name: values[name]})
    except (TypeError, ValueError):
        return m.group(0)
    if cjk_before and value and _IS_CJK.match(value[0]):
        before = ""
    if cjk_after and value and _IS_CJK.match(value[-1]):
        after = ""
    return before + spec + after


class Words:
    """The catalogue for one locale, called as Flask-Babel's functions are: `gettext(msgid,
    **values)` fills `%(name)s` placeholders, `ngettext(singular, plural, n, **values)`
    picks the plural form and sets `num`. Extraction finds these calls by their names, so a
    string the domain says this way is in the catalogue like a page's."""

    def __init__(self, locale: str, translations: NullTranslations) -> None:
        self.locale = locale
        self._translations = translations

    def gettext(self, message: str, **values: Any) -> str:
        text = self._translations.gettext(message)
        return interpolate(text, values) if values else text

    def ngettext(self, singular: str, plural: str, num: int, **values: Any) -> str:
        values.setdefault("num", num)
        return interpolate(self._translations.ngettext(singular, plural, num), values)

    def __repr__(self) -> str:
        return f"Words({self.locale!r})"


def words(locale: str | None) -> Words:
    """The catalogue in `locale` (ours or anything `reading_locale` understands), loaded once
    per process. English reads the msgids themselves."""
    return _words(reading_locale(locale))


@lru_cache(maxsize=len(LOCALES))
def _words(code: str) -> Words:
    translations = Translations.load(str(CATALOGUE_DIR), [str(babel_locale(code))], DOMAIN)
    return Words(code, translations)


# --- numbers, money, lists and dates -------------------------------------------------------------

def currency_digits(currency: str) -> int:
    """How many decimal places the currency's minor unit has (CNY 2, JPY 0)."""
    return get_currency_precision(currency)


def minor_to_amount(minor: int, currency: str) -> Decimal:
    """Integer minor units → the exact amount (5990 fen → Decimal("59.90"))."""
    return Decimal(minor).scaleb(-currency_digits(currency))


@lru_cache(maxsize=4096)
def format_price(minor: int | None, currency: str | None, locale: str) -> str:
    """Integer minor units → "CN¥129.00" / "¥129.00" in `locale` (never floats for money);
    "" without a price. A run of emails formats the same few prices: cached."""
    if minor is None or not currency:
        return ""
    try:
        return format_currency(minor_to_amount(minor, currency), currency,
                               locale=babel_locale(locale))
    except (ValueError, LookupError):  # a code Babel does not know still shows something
        return f"{currency} {format_decimal(minor, locale=babel_locale(locale))}"


@lru_cache(maxsize=4096)
def format_number(value: int | float | Decimal, locale: str, pattern: str | None = None) -> str:
    """1234.5 → "1,234.5" in `locale` (Babel's format_decimal, its pattern parsed once).

    Kept: a page shows the same weights and lengths again and again, and Babel's formatting
    (Decimal arithmetic) costs ten times a lookup."""
    if pattern is None:
        return format_decimal(value, locale=babel_locale(locale))
    return _number_pattern(pattern).apply(value, babel_locale(locale))


@lru_cache(maxsize=64)
def _number_pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


ListStyle = Literal["standard", "standard-short", "or", "or-short", "unit", "unit-short",
                    "unit-narrow"]


def format_list(parts: Iterable[object], locale: str, style: ListStyle = "standard") -> str:
    """"a, b and c" ("a、b和c" in Chinese); style "or" for alternatives."""
    items = [str(p) for p in parts]
    return babel_format_list(items, style=style, locale=babel_locale(locale)) if items else ""


def format_time_ago(when: datetime, now: datetime, locale: str) -> str:
    """How long before `now` something happened: "3 hours ago" ("3小时前"), rounded as Babel
    rounds (40 hours are "2 days"), never finer than a minute; a time still ahead (an entry
    logged for later today) reads "in 20 minutes"."""
    return format_timedelta(when - now, granularity="minute", add_direction=True,
                            locale=babel_locale(locale))


def format_date(value: date, locale: str, format: str = "medium") -> str:
    return babel_format_date(value, format=format, locale=babel_locale(locale))
