"""The community package's tables (imported by migrations/env.py and the tests' load_all_models).

A `Club` is a birth club (everyone whose baby is due or born in one month: `month` is that
month's first day) or a topic group (sleep, feeding …, made by staff). Members write
`ClubPost`s, comment on them (`ClubComment`), like them (`ClubLike`, one per person and post:
a unique key, so two clicks at once cannot both count) and report them (`ClubReport`).

A post or comment is `published`, `held` (the word filter stopped it: only its author and
the moderators see it) or `hidden` (a moderator took it down). `ClubBan` keeps a person from
posting in one club or in all clubs until a date. `ClubModerator` names the clubs a staff
member with the moderator role looks after.

`ModerationAction` is the moderators' log: who did what to which post, comment or person,
and when. Append-only and without foreign keys (like the staff access log), so it still
explains a decision after the post or either account is gone.

Account deletion: the person's posts, comments, likes, reports, memberships and bans go
with the account (foreign keys `ON DELETE CASCADE`; `community.privacy.forget` returns the
photo keys to delete from disk). See `community.privacy` for why they are deleted rather
than anonymised.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime
from diary.errors import N_, DiaryError
from diary.models import User

BIRTH = "birth"
TOPIC = "topic"

PUBLISHED = "published"
HELD = "held"
HIDDEN = "hidden"
STATUSES = (PUBLISHED, HELD, HIDDEN)


class Club(Base):
    __tablename__ = "clubs"
    __table_args__ = (UniqueConstraint("month", name="uq_clubs_month"),
                      UniqueConstraint("slug", name="uq_clubs_slug"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # birth | topic
    #: Birth clubs: the first day of the month the babies are due or born in.
    month: Mapped[date | None] = mapped_column(Date)
    #: Topic groups: a short stable key ("sleep") and their names in both languages.
    slug: Mapped[str | None] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    name_zh: Mapped[str] = mapped_column(String(80), default="")
    description_en: Mapped[str] = mapped_column(String(300), default="")
    description_zh: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))


class ClubMember(Base):
    __tablename__ = "club_members"
    __table_args__ = (UniqueConstraint("club_id", "user_id", name="uq_club_members_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClubPost(Base):
    __tablename__ = "club_posts"
    __table_args__ = (Index("ix_club_posts_feed", "club_id", "status", "created_at"),
                      Index("ix_club_posts_author_at", "author_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    #: A photo the author attached (diary.photos: re-encoded, no metadata); served to members.
    photo_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=PUBLISHED)
    #: Why it is held ("word filter: …"), for the moderators.
    held_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was first published (None while held): set once, so points are given once.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    club: Mapped[Club] = relationship()
    author: Mapped[User] = relationship()


class ClubComment(Base):
    __tablename__ = "club_comments"
    __table_args__ = (Index("ix_club_comments_post", "post_id", "created_at"),
                      Index("ix_club_comments_author_at", "author_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("club_posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=PUBLISHED)
    held_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[ClubPost] = relationship()
    author: Mapped[User] = relationship()


class ClubLike(Base):
    __tablename__ = "club_likes"
    __table_args__ = (UniqueConstraint("post_id", "user_id", name="uq_club_likes_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("club_posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClubReport(Base):
    """A member's "report this": open until a moderator hides or restores what it names."""

    __tablename__ = "club_reports"
    __table_args__ = (Index("ix_club_reports_open", "resolved_at", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("club_posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("club_comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                             index=True)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class ClubBan(Base):
    """No posting (or commenting) in `club_id` — in every club when it is None — until
    `until` (UTC)."""

    __tablename__ = "club_bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    club_id: Mapped[int | None] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ClubModerator(Base):
    __tablename__ = "club_moderators"
    __table_args__ = (UniqueConstraint("club_id", "user_id", name="uq_club_moderators_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockedWord(Base):
    """The word filter: a post or comment containing one is held for the moderators."""

    __tablename__ = "club_blocked_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))


class ModerationAction(Base):
    """One moderation decision (append-only, no foreign keys: see the module's docstring)."""

    __tablename__ = "club_moderation_actions"
    __table_args__ = (Index("ix_club_moderation_actions_club_at", "club_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_user_id: Mapped[int] = mapped_column(Integer)
    staff_member_no: Mapped[str] = mapped_column(String(12))
    #: hide | restore | ban | unban | word_add | word_remove | assign | unassign
    action: Mapped[str] = mapped_column(String(16))
    club_id: Mapped[int | None] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    comment_id: Mapped[int | None] = mapped_column(Integer)
    #: The person acted upon (the author banned, the moderator assigned), by member number.
    subject_member_no: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(300), default="")


class AppendOnly(DiaryError):
    def __init__(self) -> None:
        super().__init__(N_("The moderation log cannot be changed or deleted."))


@event.listens_for(ModerationAction, "before_update")
@event.listens_for(ModerationAction, "before_delete")
def _refuse_change(_mapper: object, _connection: object, _target: object) -> None:
    raise AppendOnly()


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and \
            state.bind_mapper.class_ is ModerationAction:
        raise AppendOnly()
