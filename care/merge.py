"""Questions, help-centre votes and satisfaction surveys follow a customer into the account
theirs is merged into.

`crm.duplicates` merges two accounts of one person and runs the movers registered with it
(crm sits below care and never imports it); importing `care` registers these. What moves:

- every question and complaint (ticket), with its messages and events;
- the "was this helpful?" votes, but for an answer the survivor voted on too (one vote a
  person): that stays behind;

- the offers, with their answers, comments and follow-ups (a follow-up names its offer), but
  for one the survivor was made for the same moment (the same trigger and subject): that
  stays behind, as the old account's history;
- the key moments planned for it (two weeks after a birth …), on the same rule;
- the pacing: the survivor's "last survey" and "last NPS" become the later of both accounts',
  so the merged person is still asked at most once a week and NPS once a quarter. The old
  account's pacing row stays (counted as kept).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from care.help import voter_for
from care.models import FaqVote, SurveyMoment, SurveyOffer, SurveyThrottle, Ticket
from crm import duplicates
from db import dialect_insert, table_of
from diary.models import User


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)


class SurveysMover:
    kinds: tuple[str, ...] = ("survey_offers", "survey_moments", "survey_throttles")

    def plan(self, session: Session, survivor: User, merged: User
             ) -> dict[str, tuple[list[int], list[int]]]:
        same = ("trigger", "subject_ref")
        pacing = session.get(SurveyThrottle, merged.id)
        return {
            "survey_offers": duplicates.movable(session, SurveyOffer, SurveyOffer.user_id,
                                                merged, survivor, same),
            "survey_moments": duplicates.movable(session, SurveyMoment, SurveyMoment.user_id,
                                                 merged, survivor, same),
            "survey_throttles": ([], [merged.id] if pacing is not None else []),
        }

    def move(self, session: Session, survivor: User, merged: User,
             moving: dict[str, list[int]], now: datetime) -> None:
        for model, kind in ((SurveyOffer, "survey_offers"), (SurveyMoment, "survey_moments")):
            ids = moving.get(kind, [])
            if ids:
                session.execute(update(model).where(model.id.in_(ids))
                                .values(user_id=survivor.id)
                                .execution_options(synchronize_session=False))
        theirs = session.get(SurveyThrottle, merged.id)
        if theirs is None:
            return
        session.execute(dialect_insert(session, table_of(SurveyThrottle))
                        .values(user_id=survivor.id)
                        .on_conflict_do_nothing(index_elements=["user_id"]))
        mine = session.get(SurveyThrottle, survivor.id, populate_existing=True)
        assert mine is not None  # made just above if it was missing
        mine.last_offer_at = _later(mine.last_offer_at, theirs.last_offer_at)
        mine.last_nps_at = _later(mine.last_nps_at, theirs.last_nps_at)
        session.flush()


class HelpMover:
    kinds: tuple[str, ...] = ("tickets", "help_votes")

    def plan(self, session: Session, survivor: User, merged: User
             ) -> dict[str, tuple[list[int], list[int]]]:
        tickets = sorted(session.scalars(select(Ticket.id).where(Ticket.user_id == merged.id)))
        return {"tickets": (tickets, []),
                "help_votes": duplicates.movable(session, FaqVote, FaqVote.user_id, merged,
                                                 survivor, ("item_id",))}

    def move(self, session: Session, survivor: User, merged: User,
             moving: dict[str, list[int]], now: datetime) -> None:
        duplicates.move_rows(session, Ticket, Ticket.user_id, moving.get("tickets", []),
                             survivor.id)
        duplicates.move_rows(session, FaqVote, FaqVote.user_id, moving.get("help_votes", []),
                             survivor.id, voter=voter_for(survivor, None))


MOVER = SurveysMover()
HELP_MOVER = HelpMover()
duplicates.register_mover(MOVER)
duplicates.register_mover(HELP_MOVER)
