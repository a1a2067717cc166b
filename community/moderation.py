"""Moderation: the queue, hide / restore / ban, the word filter and who moderates what.

A staff member with the moderator role sees and acts on the clubs they are assigned to, and
nothing else (NotFound for the others: from outside, another club's queue does not exist);
administrators see every club and assign moderators. Every decision is written to the
append-only `ModerationAction` log (who, what, when), in the same transaction as the change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, exists, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from clock import utcnow
from community.models import (
    HELD,
    HIDDEN,
    PUBLISHED,
    BlockedWord,
    Club,
    ClubBan,
    ClubComment,
    ClubMember,
    ClubModerator,
    ClubPost,
    ClubReport,
    ModerationAction,
)
from diary.errors import N_, Conflict, NotFound, PermissionDenied, ValidationError
from diary.models import StaffRole, User

MODERATOR = StaffRole.MODERATOR.value
ADMIN = StaffRole.ADMIN.value
WORD_MAX = 80


def _is_admin(staff: User) -> bool:
    return staff.staff_role == ADMIN


def moderated_club_ids(session: Session, staff: User) -> list[int] | None:
    """The clubs `staff` moderates; None for administrators (all of them)."""
    if _is_admin(staff):
        return None
    if staff.staff_role != MODERATOR:
        return []
    return list(session.scalars(select(ClubModerator.club_id).where(
        ClubModerator.user_id == staff.id).order_by(ClubModerator.club_id)))


def can_moderate(session: Session, staff: User, club_id: int) -> bool:
    ids = moderated_club_ids(session, staff)
    return ids is None or club_id in ids


def _require(session: Session, staff: User, club_id: int) -> None:
    if not can_moderate(session, staff, club_id):
        raise NotFound()


def _log(session: Session, staff: User, action: str, now: datetime, club_id: int | None = None,
         post_id: int | None = None, comment_id: int | None = None,
         subject: User | None = None, note: str = "") -> None:
    session.add(ModerationAction(
        at=now, staff_user_id=staff.id, staff_member_no=staff.member_no, action=action,
        club_id=club_id, post_id=post_id, comment_id=comment_id,
        subject_member_no=subject.member_no if subject is not None else None,
        note=note[:300]))


# --- the queue -------------------------------------------------------------------------------

@dataclass
class QueueItem:
    post: ClubPost
    comment: ClubComment | None
    reports: list[ClubReport] = field(default_factory=list)

    @property
    def status(self) -> str:
        return (self.comment or self.post).status

    @property
    def author(self) -> User:
        return (self.comment or self.post).author


def queue(session: Session, staff: User, show: str = "open") -> list[QueueItem]:
    """What needs a decision ("open": held, or published with an open report) or what was
    hidden ("hidden"), in the clubs `staff` moderates, oldest first."""
    ids = moderated_club_ids(session, staff)
    in_scope = ClubPost.club_id.in_(ids) if ids is not None else true()
    reported_post = exists().where(ClubReport.post_id == ClubPost.id,
                                   ClubReport.comment_id.is_(None),
                                   ClubReport.resolved_at.is_(None))
    reported_comment = exists().where(ClubReport.comment_id == ClubComment.id,
                                      ClubReport.resolved_at.is_(None))
    if show == "hidden":
        post_where = ClubPost.status == HIDDEN
        comment_where = ClubComment.status == HIDDEN
    else:
        post_where = or_(ClubPost.status == HELD, (ClubPost.status == PUBLISHED)
                         & reported_post)
        comment_where = or_(ClubComment.status == HELD, (ClubComment.status == PUBLISHED)
                            & reported_comment)
    posts = session.scalars(select(ClubPost).where(in_scope, post_where)
                            .options(selectinload(ClubPost.author),
                                     selectinload(ClubPost.club))
                            .order_by(ClubPost.created_at, ClubPost.id).limit(200))
    comments = session.scalars(select(ClubComment).join(ClubPost).where(in_scope,
                                                                         comment_where)
                               .options(selectinload(ClubComment.author),
                                        selectinload(ClubComment.post))
                               .order_by(ClubComment.created_at, ClubComment.id).limit(200))
    items = [QueueItem(p, None) for p in posts] + [QueueItem(c.post, c) for c in comments]
    open_reports = list(session.scalars(select(ClubReport).where(
        ClubReport.resolved_at.is_(None),
        ClubReport.post_id.in_([i.post.id for i in items] or [-1]))
        .options(selectinload(ClubReport.reporter)).order_by(ClubReport.created_at)))
    for item in items:
        item.reports = [r for r in open_reports if r.post_id == item.post.id
                        and r.comment_id == (item.comment.id if item.comment else None)]
    items.sort(key=lambda i: ((i.comment or i.post).created_at, i.post.id))
    return items


def open_count(session: Session, staff: User) -> int:
    return len(queue(session, staff))


def post_for_moderator(session: Session, staff: User, post_id: int) -> ClubPost:
    post = session.get(ClubPost, post_id)
    if post is None:
        raise NotFound()
    _require(session, staff, post.club_id)
    return post


def comment_for_moderator(session: Session, staff: User, comment_id: int) -> ClubComment:
    comment = session.get(ClubComment, comment_id)
    if comment is None:
        raise NotFound()
    _require(session, staff, comment.post.club_id)
    return comment


def _resolve_reports(session: Session, staff: User, post: ClubPost,
                     comment: ClubComment | None, now: datetime) -> None:
    session.execute(update(ClubReport).where(
        ClubReport.post_id == post.id, ClubReport.resolved_at.is_(None),
        ClubReport.comment_id.is_(None) if comment is None
        else ClubReport.comment_id == comment.id)
        .values(resolved_at=now, resolved_by_id=staff.id)
        .execution_options(synchronize_session=False))


def hide(session: Session, staff: User, post: ClubPost, comment: ClubComment | None = None,
         note: str = "", now: datetime | None = None) -> None:
    """Take a post or comment down: members no longer see it; its reports are settled."""
    now = now or utcnow()
    _require(session, staff, post.club_id)
    target = comment or post
    target.status = HIDDEN
    _resolve_reports(session, staff, post, comment, now)
    _log(session, staff, "hide", now, post.club_id, post.id, comment.id if comment else None,
         target.author, note)


def restore(session: Session, staff: User, post: ClubPost, comment: ClubComment | None = None,
            note: str = "", now: datetime | None = None) -> bool:
    """Publish a held or hidden post or comment (or keep a reported one up): its reports are
    settled. True when a post is published for the first time (points may be given)."""
    now = now or utcnow()
    _require(session, staff, post.club_id)
    target = comment or post
    target.status = PUBLISHED
    first = False
    if comment is None and post.published_at is None:
        post.published_at = now
        first = True
    _resolve_reports(session, staff, post, comment, now)
    _log(session, staff, "restore", now, post.club_id, post.id,
         comment.id if comment else None, target.author, note)
    return first


def ban(session: Session, staff: User, person: User, club: Club | None, until: datetime,
        reason: str = "", now: datetime | None = None) -> ClubBan:
    """Stop `person` posting in `club` (or, for administrators, in every club: None) until
    `until`. Moderators ban only from clubs they moderate, and only people in them."""
    now = now or utcnow()
    if club is None:
        if not _is_admin(staff):
            raise PermissionDenied(N_("Only administrators can ban someone from every club."))
    else:
        _require(session, staff, club.id)
    if person.is_staff:
        raise ValidationError(N_("Staff accounts cannot be banned."))
    if until <= now:
        raise ValidationError(N_("The ban must end in the future."), "until")
    row = ClubBan(user_id=person.id, club_id=club.id if club else None, until=until,
                  reason=" ".join(reason.split())[:300], created_at=now,
                  created_by_id=staff.id)
    session.add(row)
    _log(session, staff, "ban", now, club.id if club else None, subject=person,
         note=f"until {until.isoformat()}; {row.reason}")
    session.flush()
    return row


def bans(session: Session, staff: User, now: datetime | None = None) -> list[ClubBan]:
    """Bans still running that `staff` can see (their clubs' and every-club bans)."""
    now = now or utcnow()
    ids = moderated_club_ids(session, staff)
    query = select(ClubBan).where(ClubBan.until > now)
    if ids is not None:
        query = query.where(or_(ClubBan.club_id.in_(ids), ClubBan.club_id.is_(None)))
    return list(session.scalars(query.order_by(ClubBan.until)))


def actions(session: Session, staff: User, limit: int = 50) -> list[ModerationAction]:
    """The newest decisions in `staff`'s clubs (administrators: all)."""
    ids = moderated_club_ids(session, staff)
    query = select(ModerationAction)
    if ids is not None:
        query = query.where(ModerationAction.club_id.in_(ids))
    return list(session.scalars(query.order_by(ModerationAction.at.desc(),
                                               ModerationAction.id.desc()).limit(limit)))


# --- the word filter -------------------------------------------------------------------------

def add_word(session: Session, staff: User, word: str, now: datetime | None = None
             ) -> BlockedWord:
    now = now or utcnow()
    word = " ".join((word or "").split()).casefold()
    if not word or len(word) > WORD_MAX:
        raise ValidationError(N_("Give a word or phrase of at most %(limit)d characters."),
                              "word", limit=WORD_MAX)
    if session.scalar(select(BlockedWord.id).where(BlockedWord.word == word)) is not None:
        raise Conflict(N_("That word is already on the list."), "word")
    row = BlockedWord(word=word, created_at=now, created_by_id=staff.id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(N_("That word is already on the list."), "word") from None
    _log(session, staff, "word_add", now, note=word)
    return row


def remove_word(session: Session, staff: User, word_id: int, now: datetime | None = None
                ) -> None:
    row = session.get(BlockedWord, word_id)
    if row is None:
        raise NotFound()
    _log(session, staff, "word_remove", now or utcnow(), note=row.word)
    session.delete(row)


def words(session: Session) -> list[BlockedWord]:
    return list(session.scalars(select(BlockedWord).order_by(BlockedWord.word)))


# --- moderators ------------------------------------------------------------------------------

def moderators(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.staff_role == MODERATOR)
                                .order_by(User.display_name, User.id)))


def assignments(session: Session) -> list[tuple[ClubModerator, User, Club]]:
    return [(a, u, c) for a, u, c in session.execute(
        select(ClubModerator, User, Club).join(User, User.id == ClubModerator.user_id)
        .join(Club, Club.id == ClubModerator.club_id)
        .order_by(User.display_name, Club.kind, Club.month, Club.id)).all()]


def assign(session: Session, admin: User, moderator: User, club: Club,
           now: datetime | None = None) -> None:
    if not _is_admin(admin):
        raise PermissionDenied(N_("Only administrators assign moderators."))
    if moderator.staff_role != MODERATOR:
        raise ValidationError(N_("Choose a staff member with the moderator role."), "user_id")
    if session.scalar(select(ClubModerator.id).where(
            ClubModerator.club_id == club.id, ClubModerator.user_id == moderator.id)):
        return
    try:
        with session.begin_nested():
            session.add(ClubModerator(club_id=club.id, user_id=moderator.id))
    except IntegrityError:
        return
    _log(session, admin, "assign", now or utcnow(), club.id, subject=moderator)


def unassign(session: Session, admin: User, assignment_id: int,
             now: datetime | None = None) -> None:
    if not _is_admin(admin):
        raise PermissionDenied(N_("Only administrators assign moderators."))
    row = session.get(ClubModerator, assignment_id)
    if row is None:
        raise NotFound()
    _log(session, admin, "unassign", now or utcnow(), row.club_id,
         subject=session.get(User, row.user_id))
    session.execute(delete(ClubModerator).where(ClubModerator.id == row.id))


def is_club_member(session: Session, user_id: int, club_id: int) -> bool:
    return session.scalar(select(ClubMember.id).where(
        ClubMember.user_id == user_id, ClubMember.club_id == club_id)) is not None
