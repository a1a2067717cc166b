"""Suggestions for a child, and what the person does with them.

- `GET /children/{id}/suggestions?surface=child_page`: the recommender's list
  (`recommender.present.cards`, as the web's suggestion block ranks it), shown under a fresh
  request id and with the signed slate token the web's cards carry (`impression_token`).
- `POST /impressions`: which positions of which lists came into view, named by their
  tokens (`recommender.impressions`, as the web's batches; an expired or altered token is
  skipped, not an error).
- `POST /interactions`: clicks, saves, dismisses (and impressions) of single items, with the
  list's request id, as the web's cards report them (`recommender.tracking`: the child must
  be in the caller's families, the item live; a replay counts once).
"""
from __future__ import annotations

from typing import Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from clock import utcnow
from db import INT_MAX
from diary import families
from diary.age import local_today
from diary.locales import locale_of
from recommender import impressions, present, tracking
from webapp.blueprints.api_v1.errors import ApiError
from webapp.blueprints.api_v1.framework import Call, endpoint
from webapp.database import transaction
from webapp.services import reco_model
from webapp.suggestion_blocks import SIZES

TAG = "Suggestions"
SurfaceName = Literal["child_page", "product_list", "article", "inbox"]


class SuggestionOut(BaseModel):
    position: int = Field(description="0-based, as shown.")
    item_id: int
    kind: str
    key: str = Field(description="The product's SKU or the article's slug.")
    title: str
    summary: str
    reason: str = Field(description="Why it is suggested, in the caller's language.")


class SuggestionsOut(BaseModel):
    child_id: int
    surface: str
    request_id: str = Field(description="This showing's id: send it with each interaction.")
    model_version: str = Field(description="Send it with each interaction.")
    impression_token: str | None = Field(description=(
        "Send it to POST /api/v1/impressions with the positions seen; None for an empty "
        "list."))
    items: list[SuggestionOut]


class SuggestionsQuery(BaseModel):
    surface: SurfaceName = "child_page"


@endpoint("GET", "/children/<int:child_id>/suggestions", tag=TAG,
          summary="Suggested products for a child, with impression ids",
          query=SuggestionsQuery, response=SuggestionsOut)
def child_suggestions(call: Call, child_id: int) -> SuggestionsOut:
    """Any member of the family may ask (they are the caller's own suggestions). A surface
    the operator switched off (RECO_SURFACES) is 404."""
    surface = call.query.surface
    if surface not in current_app.config["RECO_SURFACES"]:
        raise ApiError(404, message="That surface is switched off.")
    child = families.child_for(call.session, call.user, child_id)
    locale, today = locale_of(call.user), local_today(child.family.timezone)
    slate = present.cards(call.session, reco_model(), call.user, child, today, locale,
                          SIZES[surface], surface, current_app.config["RECO_CONTROL_SHARE"])
    request_id = tracking.new_request_id()
    shown = present.showing(slate, call.user, child, today, surface, request_id)
    items = []
    for position, card in enumerate(slate.cards):
        text = card.item.text(locale)
        items.append(SuggestionOut(
            position=position, item_id=card.item.id, kind=card.item.kind, key=card.item.key,
            title=text.title if text else card.item.key,
            summary=(text.summary or "") if text else "", reason=card.reason))
    return SuggestionsOut(
        child_id=child.id, surface=surface, request_id=request_id,
        model_version=slate.model_version,
        impression_token=impressions.make_token(current_app.config["SECRET_KEY"], shown)
        if shown is not None else None, items=items)


class SeenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=2000)
    seen: list[int] = Field(min_length=1, max_length=impressions.MAX_ITEMS,
                            description="Positions (0-based) that came into view.")


class ImpressionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slates: list[SeenIn] = Field(min_length=1, max_length=20)


class ImpressionsOut(BaseModel):
    accepted: int = Field(description="Impressions kept for the log.")
    received: int = Field(description="Lists received.")


@endpoint("POST", "/impressions", tag=TAG, scope="write",
          summary="Report which suggestions were seen", body=ImpressionsIn,
          response=ImpressionsOut)
def log_impressions(call: Call) -> ImpressionsOut:
    """Logged within a minute (the scheduler drains the batches); a list reported twice
    counts once. A token that is not the caller's own list is skipped."""
    body: ImpressionsIn = call.body
    secret = current_app.config["SECRET_KEY"]
    seen = []
    for slate in body.slates:
        try:
            shown = impressions.read_token(secret, slate.token)
        except impressions.BadSlate:
            continue
        if shown.user_id == call.user.id:
            seen.append((shown, slate.seen))
    accepted = 0
    if seen:
        with transaction() as s:
            accepted = impressions.queue_seen(s, seen, utcnow())
    return ImpressionsOut(accepted=accepted, received=len(body.slates))


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["impression", "click", "save", "dismiss", "add_to_cart"]
    item_id: int = Field(ge=1, le=INT_MAX)
    surface: SurfaceName
    request_id: str = Field(pattern=f"^{tracking.REQUEST_ID.pattern}$", min_length=8,
                            max_length=32, description="The list's request_id.")
    position: int | None = Field(None, ge=0, le=tracking.MAX_POSITION)
    model_version: str | None = Field(None, pattern=f"^{tracking.MODEL_VERSION.pattern}$",
                                      max_length=40)
    child_id: int | None = Field(None, ge=1, le=INT_MAX)


class InteractionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=tracking.MAX_EVENTS)


class InteractionsOut(BaseModel):
    logged: int = Field(description="New events (a replay logs nothing).")
    received: int


@endpoint("POST", "/interactions", tag=TAG, scope="write",
          summary="Log clicks, saves and dismisses of suggested items", body=InteractionsIn,
          response=InteractionsOut, errors=(404,))
def log_interactions(call: Call) -> InteractionsOut:
    """A child outside the caller's families, or an item that is not live, is 404 and
    nothing is logged."""
    body: InteractionsIn = call.body
    events = tracking.parse_events(body.model_dump(exclude_none=True))
    with transaction() as s:
        logged = tracking.log_events(s, call.user, events)
    return InteractionsOut(logged=logged, received=len(events))
