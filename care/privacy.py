"""What the care package keeps about a person, in their data export (see `diary.privacy`).

- `surveys`: every satisfaction survey offered to them (what it asked about, when, how it was
  sent) with their score and comment, the follow-up staff opened after a low score (its
  status and dates; not which staff member) and the key moments still waiting to be asked;
- `help_votes`: their "was this helpful?" answers in the help centre (which FAQ, yes or no).

All go with the account: their foreign keys cascade. The survey throttle (when they were
last asked, which the offers above show too) is declared not personal.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from care.models import FaqVote, SurveyMoment, SurveyOffer
from content.models import ContentItem
from diary.privacy import ExportRegistry, ExportScope, Section, iso, row_dict

OFFER_FIELDS = ("kind", "trigger", "subject_ref", "channels", "offered_at", "score", "comment",
                "answered_at", "answered_via", "commented_at")
FOLLOW_UP_FIELDS = ("status", "note", "created_at", "done_at")
MOMENT_FIELDS = ("trigger", "subject_ref", "due_at", "status")


def _surveys(session: Session, scope: ExportScope) -> dict[str, Any]:
    offers = session.scalars(select(SurveyOffer).where(SurveyOffer.user_id == scope.user.id)
                             .options(selectinload(SurveyOffer.follow_up))
                             .order_by(SurveyOffer.offered_at, SurveyOffer.id))
    moments = session.scalars(select(SurveyMoment).where(
        SurveyMoment.user_id == scope.user.id).order_by(SurveyMoment.due_at, SurveyMoment.id))
    return {"offers": [row_dict(o, OFFER_FIELDS) | {
        "follow_up": row_dict(o.follow_up, FOLLOW_UP_FIELDS) if o.follow_up else None}
        for o in offers], "moments": [row_dict(m, MOMENT_FIELDS) for m in moments]}


def _votes(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(select(ContentItem.key, FaqVote.helpful, FaqVote.updated_at)
                           .join(ContentItem, ContentItem.id == FaqVote.item_id)
                           .where(FaqVote.user_id == scope.user.id).order_by(FaqVote.id))
    return [{"faq": key, "helpful": helpful, "at": iso(at)} for key, helpful, at in rows]


def register(registry: ExportRegistry) -> None:
    registry.add(Section("surveys", ("survey_offers", "survey_follow_ups", "survey_moments"),
                         _surveys),
                 Section("help_votes", ("faq_votes",), _votes))
    registry.not_exported("survey_throttles",
                          "when the person was last offered a survey and an NPS survey: the "
                          "offers in the surveys section show the same times")
