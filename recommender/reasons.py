"""Why a product is suggested: a reason code with parameters, and its words in a language.

The model gives every suggestion a `Reason` (a code and small parameters: a stage key, an
item id, a size); the words live here, marked `N_` so the Babel catalogue has them, and
`describe` puts them in the reader's language — the web layer and the email digests call it
with the titles of the items a reason names (`titles` fetches them in one query).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.errors import N_
from content.models import Translation
from content.stages import Stage
from diary.locales import words
from diary.vocabulary import interest_label

POPULAR = "popular_at_stage"
BECAUSE_BOUGHT, BECAUSE_SAVED = "because_bought", "because_saved"
BECAUSE_BASKET, BECAUSE_VIEWED = "because_in_basket", "because_viewed"
SAVED_EARLIER, BUY_AGAIN, NEXT_SIZE = "saved_earlier", "buy_again", "next_size"
INTEREST, NEW = "matches_interest", "new_in_shop"

#: The words of each code (the stage and size ones have a wording per stage unit or ladder).
TEXTS: dict[str, str] = {
    BECAUSE_BOUGHT: N_("Because you bought %(item)s"),
    BECAUSE_SAVED: N_("Because you saved %(item)s"),
    BECAUSE_BASKET: N_("Because you put %(item)s in your basket"),
    BECAUSE_VIEWED: N_("Because you looked at %(item)s"),
    SAVED_EARLIER: N_("You saved this earlier"),
    BUY_AGAIN: N_("Time to stock up again"),
    INTEREST: N_("Suits your interest in %(interest)s"),
    NEW: N_("New in the shop for this stage"),
}
POPULAR_TEXTS: dict[str, str] = {
    "pregnancy_week": N_("Popular with parents-to-be in week %(num)d of pregnancy"),
    "week": N_("Popular with parents of %(num)d-week-olds"),
    "month": N_("Popular with parents of %(num)d-month-olds"),
}
NEXT_SIZE_TEXTS: dict[str, str] = {
    "nappy": N_("The next nappy size for your baby's weight: %(size)s"),
    "teat": N_("The next teat size up: %(size)s"),
    "clothing": N_("The next clothing size up: %(size)s"),
}
POPULAR_NEWBORN = N_("Popular with parents of newborns")  # baby week 0
#: What is said when a reason cannot be (a stage or an item that is no more).
FALLBACK = N_("Popular with families like yours")
CODES = (POPULAR, NEXT_SIZE, *TEXTS)
#: Reasons that name another item (its title is needed to say them).
NAMING = (BECAUSE_BOUGHT, BECAUSE_SAVED, BECAUSE_BASKET, BECAUSE_VIEWED)


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown reason {self.code!r}")

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))


def popular_at(stage: Stage) -> Reason:
    return Reason(POPULAR, {"stage": stage.key})


def describe(reason: Reason, locale: str, titles: Mapping[int, str] | None = None) -> str:
    """The reason in `locale`'s words; an item it names by its title (from `titles`, by item
    id; a title that is missing makes the reason fall back to the plain "popular" one)."""
    w = words(locale)
    params = reason.params
    if reason.code == POPULAR:
        stage = Stage.parse(str(params.get("stage", "")))
        if stage is None:
            return w.gettext(FALLBACK)
        if stage.unit == "week" and stage.value == 0:
            return w.gettext(POPULAR_NEWBORN)
        return w.gettext(POPULAR_TEXTS[stage.unit], num=stage.value)
    if reason.code == NEXT_SIZE:
        text = NEXT_SIZE_TEXTS.get(str(params.get("system")), NEXT_SIZE_TEXTS["nappy"])
        return w.gettext(text, size=str(params.get("size", "")))
    if reason.code in NAMING:
        title = (titles or {}).get(int(params.get("item", 0)))
        if not title:
            return w.gettext(FALLBACK)
        return w.gettext(TEXTS[reason.code], item=title)
    if reason.code == INTEREST:
        return w.gettext(TEXTS[INTEREST],
                         interest=interest_label(str(params.get("interest", "")), locale))
    return w.gettext(TEXTS[reason.code])


def named_items(reasons: Iterable[Reason]) -> set[int]:
    """The ids of the items these reasons name (for `titles`)."""
    return {int(r.params["item"]) for r in reasons if r.code in NAMING and "item" in r.params}


def titles(session: Session, item_ids: Iterable[int], locale: str) -> dict[int, str]:
    """Item titles in `locale`, else English, else any (one query)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rank = {locale: 0, "en": 1}
    best: dict[int, tuple[int, str]] = {}
    for item_id, code, title in session.execute(
            select(Translation.item_id, Translation.locale, Translation.title)
            .where(Translation.item_id.in_(ids))):
        order = rank.get(code, 2)
        if item_id not in best or order < best[item_id][0]:
            best[item_id] = (order, title)
    return {item_id: title for item_id, (_, title) in best.items()}
