"""What the community package keeps about a person, in their data export (see `diary.privacy`).

- `club_memberships`: the clubs they are in and since when;
- `club_posts`, `club_comments`: everything they wrote (with its status: published, held by
  the word filter, hidden by a moderator) and whether a photo was attached (the photo itself
  is theirs too: its key names the file in the club photo store);
- `club_likes`: the posts they liked; `club_reports`: what they reported and why;
- `club_bans`: bans on them (until when, and the reason given).

Deleting an account deletes, rather than anonymises, the person's posts, comments, likes,
reports and memberships (their foreign keys cascade, and `forget` returns the photo files to
remove). A parent's posts are about their own baby, and the site's promise is that nothing of
a child is visible outside the family unless the parent shares it: leaving withdraws the
sharing. An "anonymous" post would still carry the baby's story and photo, which can name a
family as well as a display name can. Other members' comments under a deleted post go with
it (they answered something that is gone).

The moderators' log names people by member number without foreign keys (like the staff access
log) and is staff work: declared not personal. So are moderator assignments (staff only) and
the word filter.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from community.models import (
    Club,
    ClubBan,
    ClubComment,
    ClubLike,
    ClubMember,
    ClubPost,
    ClubReport,
)
from diary.models import User
from diary.privacy import ExportRegistry, ExportScope, Section, iso, row_dict

POST_FIELDS = ("id", "club_id", "body", "status", "created_at", "published_at")
COMMENT_FIELDS = ("id", "post_id", "body", "status", "created_at")
REPORT_FIELDS = ("post_id", "comment_id", "reason", "created_at", "resolved_at")
BAN_FIELDS = ("club_id", "until", "reason", "created_at")


def club_label(club: Club) -> str:
    return club.month.strftime("%Y-%m") if club.month is not None else club.name_en


def _memberships(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(select(ClubMember, Club).join(Club, Club.id == ClubMember.club_id)
                           .where(ClubMember.user_id == scope.user.id)
                           .order_by(ClubMember.joined_at, ClubMember.id)).all()
    return [{"club_id": c.id, "kind": c.kind, "club": club_label(c),
             "joined_at": iso(m.joined_at)} for m, c in rows]


def _posts(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClubPost).where(ClubPost.author_id == scope.user.id)
                           .order_by(ClubPost.created_at, ClubPost.id))
    return [{**row_dict(r, POST_FIELDS), "photo": r.photo_key is not None} for r in rows]


def _comments(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClubComment).where(ClubComment.author_id == scope.user.id)
                           .order_by(ClubComment.created_at, ClubComment.id))
    return [row_dict(r, COMMENT_FIELDS) for r in rows]


def _likes(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClubLike).where(ClubLike.user_id == scope.user.id)
                           .order_by(ClubLike.created_at, ClubLike.id))
    return [row_dict(r, ("post_id", "created_at")) for r in rows]


def _reports(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClubReport).where(ClubReport.reporter_id == scope.user.id)
                           .order_by(ClubReport.created_at, ClubReport.id))
    return [row_dict(r, REPORT_FIELDS) for r in rows]


def _bans(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(ClubBan).where(ClubBan.user_id == scope.user.id)
                           .order_by(ClubBan.created_at, ClubBan.id))
    return [row_dict(r, BAN_FIELDS) for r in rows]


def forget(session: Session, user: User) -> list[str]:
    """Before an account is deleted: its posts go (their comments, likes and reports with
    them); the rest cascades with the account. Returns the photo keys to delete from disk
    once the transaction has committed."""
    posts = list(session.scalars(select(ClubPost).where(ClubPost.author_id == user.id)))
    keys = [p.photo_key for p in posts if p.photo_key]
    for post in posts:
        session.delete(post)
    session.flush()
    return keys


def register(registry: ExportRegistry) -> None:
    """Add this package's sections to the export registry."""
    registry.add(Section("club_memberships", ("club_members",), _memberships),
                 Section("club_posts", ("club_posts",), _posts),
                 Section("club_comments", ("club_comments",), _comments),
                 Section("club_likes", ("club_likes",), _likes),
                 Section("club_reports", ("club_reports",), _reports),
                 Section("club_bans", ("club_bans",), _bans))
    registry.not_exported("clubs", "the clubs themselves (a month or a topic); the user column "
                          "names the staff member who made a topic group")
    registry.not_exported("club_moderators", "which staff member moderates which club: staff "
                          "assignments, about no customer")
    registry.not_exported("club_blocked_words", "the word filter's list of words: staff "
                          "work; the user column names the staff member who added a word")
    registry.not_exported("club_moderation_actions", "the moderators' log of decisions (who, "
                          "what, when), kept with member numbers like the staff access log")
