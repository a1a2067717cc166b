"""What a parent can tell us they care about: the one list of interests and their names.

Codes are stored (on the user, on content items, in journey rules); the names are English
message ids marked `N_`, translated where they are shown (`label(code, locale)` without
Flask, or the web layer's gettext).
"""
from __future__ import annotations

from diary.errors import N_
from diary.locales import words

#: Interest code → its name, in the order forms list them.
INTEREST_LABELS: dict[str, str] = {
    "skin_care": N_("Skin care"),
    "feeding": N_("Feeding"),
    "sleep": N_("Sleep"),
    "development": N_("Growth & development"),
    "health": N_("Health"),
    "play": N_("Play & learning"),
    "bathing": N_("Bathing"),
    "pregnancy_wellbeing": N_("Pregnancy well-being"),
}
INTERESTS: tuple[str, ...] = tuple(INTEREST_LABELS)


def interest_label(code: str, locale: str) -> str:
    """The interest's name in `locale` (an unknown code is shown as it is)."""
    label = INTEREST_LABELS.get(code)
    return words(locale).gettext(label) if label else code
