"""Words and numbers for content pages: stage names, windows, topics, prices, texts."""
from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from flask import Flask
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from content.models import ContentItem, Translation
from content.stages import Stage
from webapp.i18n import current_locale

TOPIC_LABELS = {
    "fetal-development": _l("Baby's development in the womb"), "prenatal-care": _l("Prenatal care"),
    "feelings": _l("How you feel"), "birth-prep": _l("Getting ready for birth"),
    "nutrition": _l("Eating well"), "senses": _l("The senses"), "sleep": _l("Sleep"),
    "feeding": _l("Feeding"), "crying": _l("Crying and soothing"),
    "temperature": _l("Temperature and dressing"), "illness-signs": _l("Signs of illness"),
    "skin-care": _l("Skin care"), "development": _l("Development"), "play": _l("Play"),
    "bathing": _l("Bathing"), "safety": _l("Safety"), "vaccination": _l("Check-ups and vaccines"),
}
CATEGORY_LABELS = {
    "account": _l("Your account"), "privacy": _l("Privacy"), "pregnancy": _l("Pregnancy"),
    "baby": _l("Your baby"), "growth": _l("Growth"), "emails": _l("Emails"),
    "products": _l("Products"),
}


def stage_label(stage: Stage) -> str:
    if stage.unit == "pregnancy_week":
        return gettext("Pregnancy week %(n)d", n=stage.value)
    if stage.unit == "week":
        return gettext("Baby week %(n)d", n=stage.value)
    return ngettext("Baby %(num)d month", "Baby %(num)d months", stage.value)


def window_label(item: ContentItem) -> str:
    if item.window_unit is None:
        return ""
    low, high = item.window_from or 0, item.window_to or 0
    if low == high:
        return stage_label(Stage(item.window_unit, low))
    if item.window_unit == "pregnancy_week":
        return gettext("Pregnancy weeks %(low)d–%(high)d", low=low, high=high)
    if item.window_unit == "week":
        return gettext("Baby weeks %(low)d–%(high)d", low=low, high=high)
    return gettext("Baby %(low)d–%(high)d months", low=low, high=high)


def topic_label(topic: str) -> str:
    return str(TOPIC_LABELS.get(topic, topic))


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


def price(minor: int | None, currency: str | None) -> str:
    """Integer minor units → "¥59.00" in the reader's locale (never floats for money)."""
    if minor is None or not currency:
        return ""
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=get_locale() or "en")


def text(item: ContentItem) -> Translation | None:
    return item.text(current_locale())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(stage_label=stage_label, window_label=window_label,
                                 topic_label=topic_label, category_label=category_label,
                                 price=price, item_text=text)
