"""A customer's birth-club life follows them into the account theirs is merged into.

`crm.duplicates` merges two accounts of one person and runs the movers registered with it
(crm sits below community and never imports it); importing `community` registers this one.
Posts and comments are shown under their author's display name as it is now, so after the
merge they read as the surviving account's. What moves:

- memberships of clubs and groups, but for one the survivor is in too (one membership a
  person and club): that stays behind;
- posts, comments and reports, all of them;
- likes, but for a post the survivor liked too (one like a person and post): that stays;
- bans, all of them: a ban was given to the person, and a merge must not lift it.

Points the posts earned move with the rewards ledger (`rewards.merge`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from community.models import ClubBan, ClubComment, ClubLike, ClubMember, ClubPost, ClubReport
from crm import duplicates
from diary.models import User

#: (kind, model, the column naming the person, the unique key besides the person or None)
TABLES: tuple[tuple[str, Any, str, tuple[str, ...] | None], ...] = (
    ("club_members", ClubMember, "user_id", ("club_id",)),
    ("club_posts", ClubPost, "author_id", None),
    ("club_comments", ClubComment, "author_id", None),
    ("club_likes", ClubLike, "user_id", ("post_id",)),
    ("club_reports", ClubReport, "reporter_id", None),
    ("club_bans", ClubBan, "user_id", None),
)


class ClubsMover:
    kinds: tuple[str, ...] = tuple(kind for kind, *_ in TABLES)

    def plan(self, session: Session, survivor: User, merged: User
             ) -> dict[str, tuple[list[int], list[int]]]:
        found: dict[str, tuple[list[int], list[int]]] = {}
        for kind, model, column, same in TABLES:
            person = getattr(model, column)
            if same is None:
                found[kind] = (sorted(session.scalars(
                    select(model.id).where(person == merged.id))), [])
            else:
                found[kind] = duplicates.movable(session, model, person, merged, survivor, same)
        return found

    def move(self, session: Session, survivor: User, merged: User,
             moving: dict[str, list[int]], now: datetime) -> None:
        for kind, model, column, _ in TABLES:
            duplicates.move_rows(session, model, getattr(model, column), moving.get(kind, []),
                                 survivor.id)


MOVER = ClubsMover()
duplicates.register_mover(MOVER)
