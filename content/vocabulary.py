"""Words for content, in one place: topics, categories, stage units and stage labels.

Codes are what is stored (on items, in preferences, in packs); names are English message
ids marked `N_`, translated in the reader's language where they are shown. A stage is
called the same everywhere — library, studio, inbox, digest, journeys admin: "Pregnancy
week 20", "Baby week 3", "Baby, month 3" (孕 20 周 / 宝宝 3 周 / 宝宝 3 个月).
"""
from __future__ import annotations

from content.errors import N_
from content.stages import Stage
from diary.locales import words

TOPIC_LABELS: dict[str, str] = {
    "fetal-development": N_("Baby's development in the womb"),
    "prenatal-care": N_("Prenatal care"),
    "feelings": N_("How you feel"),
    "birth-prep": N_("Getting ready for birth"),
    "nutrition": N_("Eating well"),
    "senses": N_("The senses"),
    "sleep": N_("Sleep"),
    "feeding": N_("Feeding"),
    "crying": N_("Crying and soothing"),
    "temperature": N_("Temperature and dressing"),
    "illness-signs": N_("Signs of illness"),
    "skin-care": N_("Skin care"),
    "development": N_("Development"),
    "play": N_("Play"),
    "bathing": N_("Bathing"),
    "safety": N_("Safety"),
    "vaccination": N_("Check-ups and vaccines"),
}
TOPICS: tuple[str, ...] = tuple(TOPIC_LABELS)

#: The categories each kind of item may have.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "reminder": ("checkup", "vaccination", "tip", "preparation"),
    "product": ("bath", "cotton_buds", "nappies", "wipes", "bibs", "powder_lotion", "skin_care",
                "bottles", "feeding", "sleep", "maternity", "toys", "health", "clothing"),
    "faq": ("account", "privacy", "pregnancy", "baby", "growth", "emails", "products"),
}
CATEGORY_LABELS: dict[str, str] = {
    "checkup": N_("Check-up"), "vaccination": N_("Vaccination"), "tip": N_("Tip"),
    "preparation": N_("Preparation"), "bath": N_("Bath"), "cotton_buds": N_("Cotton buds"),
    "nappies": N_("Nappies"), "wipes": N_("Wipes"), "bibs": N_("Bibs"),
    "powder_lotion": N_("Powder and lotion"), "skin_care": N_("Skin care"),
    "bottles": N_("Bottles"), "feeding": N_("Feeding"), "sleep": N_("Sleep"),
    "maternity": N_("Maternity"), "toys": N_("Toys"), "health": N_("Health"),
    "clothing": N_("Clothing"), "account": N_("Your account"), "privacy": N_("Privacy"),
    "pregnancy": N_("Pregnancy"), "baby": N_("Your baby"), "growth": N_("Growth"),
    "emails": N_("Emails"), "products": N_("Products"),
}

#: Size ladders, smallest first: a sized product is one step on one ladder, so "the next size
#: up" is the next step (content.sizes). Nappies (and pull-up pants) also name the weights
#: they fit; the codes are printed on the packs and read the same in every language.
SIZE_LADDERS: dict[str, tuple[str, ...]] = {
    "nappy": ("NB", "S", "M", "L", "XL"),
    "teat": ("1", "2", "3"),
    "clothing": ("0-3m", "3-6m", "6-12m", "12-18m", "18-24m", "2-3y"),
}
SIZE_SYSTEM_LABELS: dict[str, str] = {
    "nappy": N_("Nappy size"), "teat": N_("Teat size"), "clothing": N_("Clothing size"),
}

#: What a window or a stage is counted in.
UNIT_NAMES: dict[str, str] = {"pregnancy_week": N_("Pregnancy weeks"),
                              "week": N_("Baby weeks"), "month": N_("Baby months")}

#: Reviewers named in the house's own words (the default pack's articles are reviewed by the
#: editorial team): shown in the reader's language. A person's name is shown as typed.
HOUSE_REVIEWERS: frozenset[str] = frozenset({N_("Baby Journey editorial team")})


def reviewer_label(reviewed_by: str, locale: str) -> str:
    """Who reviewed an item, as an article page shows it: the house's team in the reader's
    language ("宝宝旅程编辑团队"), anyone else as typed."""
    return words(locale).gettext(reviewed_by) if reviewed_by in HOUSE_REVIEWERS else reviewed_by


def topic_label(topic: str, locale: str) -> str:
    label = TOPIC_LABELS.get(topic)
    return words(locale).gettext(label) if label else topic


def category_label(category: str, locale: str) -> str:
    label = CATEGORY_LABELS.get(category)
    return words(locale).gettext(label) if label else category


def size_system_label(system: str, locale: str) -> str:
    label = SIZE_SYSTEM_LABELS.get(system)
    return words(locale).gettext(label) if label else system


def unit_name(unit: str, locale: str) -> str:
    label = UNIT_NAMES.get(unit)
    return words(locale).gettext(label) if label else unit


def window_label(unit: str | None, low: int | None, high: int | None, locale: str) -> str:
    """"Pregnancy week 20", "Baby week 3", "Baby, month 3"; a range "Baby, months 3–6";
    "" without a window."""
    if unit is None or low is None or high is None:
        return ""
    w = words(locale)
    if low == high:
        if unit == "pregnancy_week":
            return w.gettext("Pregnancy week %(num)d", num=low)
        if unit == "week":
            return w.gettext("Baby week %(num)d", num=low)
        if unit == "month":
            return w.gettext("Baby, month %(num)d", num=low)
        return f"{unit} {low}"
    if unit == "pregnancy_week":
        return w.gettext("Pregnancy weeks %(low)d–%(high)d", low=low, high=high)
    if unit == "week":
        return w.gettext("Baby weeks %(low)d–%(high)d", low=low, high=high)
    if unit == "month":
        return w.gettext("Baby, months %(low)d–%(high)d", low=low, high=high)
    return f"{unit} {low}–{high}"


def stage_label(stage: Stage | str, locale: str) -> str:
    """A stage (or its key, "month:3") as people read it; a key that is no stage as it is."""
    if isinstance(stage, str):
        parsed = Stage.parse(stage)
        if parsed is None:
            return stage
        stage = parsed
    return window_label(stage.unit, stage.value, stage.value, locale)
