"""A child's "this week": the articles, reminders and products the child page shows for the
child's stage, in the caller's interests and language (content.library.this_week)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from content import library, vocabulary
from diary import families
from diary.age import local_today
from diary.locales import locale_of
from webapp.blueprints.api_v1.framework import Call, endpoint

TAG = "This week"


class ItemOut(BaseModel):
    id: int
    kind: str = Field(description="article, reminder or product.")
    key: str = Field(description="The article's slug, the reminder's key or the product's "
                                 "SKU.")
    title: str
    summary: str
    category: str | None


class ThisWeekOut(BaseModel):
    child_id: int
    stage: str | None = Field(description="The stage key (\"pregnancy_week:20\", "
                                          "\"baby_month:3\"…); None before pregnancy week 4 "
                                          "or after the last stage.")
    stage_label: str | None
    articles: list[ItemOut]
    reminders: list[ItemOut]
    products: list[ItemOut]


def _items(shown: list[library.Shown]) -> list[ItemOut]:
    return [ItemOut(id=s.id, kind=s.kind, key=s.key, title=s.title, summary=s.summary or "",
                    category=s.category) for s in shown]


@endpoint("GET", "/children/<int:child_id>/this-week", tag=TAG,
          summary="This week's articles, reminders and products for a child",
          response=ThisWeekOut)
def this_week(call: Call, child_id: int) -> ThisWeekOut:
    child = families.child_for(call.session, call.user, child_id)
    locale = locale_of(call.user)
    week = library.this_week(call.session, child, call.user,
                             local_today(child.family.timezone), locale)
    return ThisWeekOut(
        child_id=child.id, stage=week.stage.key if week.stage is not None else None,
        stage_label=vocabulary.stage_label(week.stage, locale) if week.stage else None,
        articles=_items(week.articles), reminders=_items(week.reminders),
        products=_items(week.products))
