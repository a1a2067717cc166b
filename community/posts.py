"""Posts, comments, likes and reports in a club.

What members write is kept as typed and shown through `render_post` (a little Markdown,
sanitised by nh3: no HTML, no images, links `rel="nofollow ugc"`). A post or comment with a
word from the word filter is held for the moderators instead of being published. Members
write at most `daily_cap` posts and comments in 24 hours, counted here in the database (the
web layer's per-minute rate limits come first); a banned person writes nothing.

Only display names ever leave this module with a post: never an email, never a child.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from clock import utcnow
from community import clubs
from community.models import (
    HELD,
    PUBLISHED,
    BlockedWord,
    Club,
    ClubBan,
    ClubComment,
    ClubLike,
    ClubPost,
    ClubReport,
)
from diary.errors import N_, DiaryError, NotFound, PermissionDenied, ValidationError
from diary.models import User

POST_MAX = 5000
COMMENT_MAX = 2000
REASON_MAX = 500
WINDOW = timedelta(hours=24)
PER_PAGE = 20

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_md.disable(["image", "heading", "html_block", "html_inline", "table"], ignoreInvalid=True)
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}


@lru_cache(maxsize=4096)
def render_post(text: str) -> str:
    """HTML safe to insert into a page, from a post or comment (pure, so cached)."""
    if not text:
        return ""
    return nh3.clean(_md.render(text), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https"}, link_rel="nofollow ugc noopener")


class PostingLimitReached(DiaryError):
    """The person wrote `limit` posts and comments in the last 24 hours (a 429)."""

    def __init__(self, limit: int) -> None:
        super().__init__(N_("You have posted %(limit)d times in the last 24 hours, the most "
                            "a day allows. Please come back tomorrow."), limit=limit)


class Banned(PermissionDenied):
    def __init__(self, until: datetime) -> None:
        super().__init__(N_("You cannot post in this club at the moment."))
        self.until = until


# --- the word filter -------------------------------------------------------------------------

def blocked_words(session: Session) -> list[str]:
    return list(session.scalars(select(BlockedWord.word).order_by(BlockedWord.word)))


def _pattern(word: str) -> re.Pattern[str]:
    # Latin words match whole words ("ass" is not in "class"); words in Chinese, which has
    # no spaces between words, match anywhere.
    escaped = re.escape(word.casefold())
    if word.isascii():
        return re.compile(rf"(?<![0-9a-z]){escaped}(?![0-9a-z])")
    return re.compile(escaped)


def blocked_word_in(session: Session, text: str) -> str | None:
    """The first filtered word `text` contains, or None."""
    folded = " ".join(text.split()).casefold()
    for word in blocked_words(session):
        if _pattern(word).search(folded):
            return word
    return None


# --- who may write ---------------------------------------------------------------------------

def active_ban(session: Session, user: User, club_id: int,
               now: datetime | None = None) -> ClubBan | None:
    now = now or utcnow()
    return session.scalar(select(ClubBan).where(
        ClubBan.user_id == user.id, ClubBan.until > now,
        or_(ClubBan.club_id.is_(None), ClubBan.club_id == club_id))
        .order_by(ClubBan.until.desc()).limit(1))


def written_since(session: Session, user: User, since: datetime) -> int:
    posts = session.scalar(select(func.count(ClubPost.id)).where(
        ClubPost.author_id == user.id, ClubPost.created_at > since)) or 0
    comments = session.scalar(select(func.count(ClubComment.id)).where(
        ClubComment.author_id == user.id, ClubComment.created_at > since)) or 0
    return posts + comments


def check_can_write(session: Session, user: User, club: Club, daily_cap: int,
                    now: datetime) -> None:
    """Member, not banned, under the daily cap. The person's row is locked while counting
    (PostgreSQL `FOR UPDATE`; SQLite has one writer), so two posts at once cannot both pass
    the last place under the cap."""
    if not clubs.is_member(session, user, club.id):
        raise NotFound()
    ban = active_ban(session, user, club.id, now)
    if ban is not None:
        raise Banned(ban.until)
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    if written_since(session, user, now - WINDOW) >= daily_cap:
        raise PostingLimitReached(daily_cap)


def _clean(text: str, limit: int, empty: str, too_long: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError(empty, "body")
    if len(text) > limit:
        raise ValidationError(too_long, "body", limit=limit)
    return text


# --- posts and comments ----------------------------------------------------------------------

def create_post(session: Session, user: User, club: Club, body: str, photo_key: str | None,
                daily_cap: int, now: datetime | None = None) -> ClubPost:
    """A new post: published, or held when it has a filtered word. `post.published_at` is
    set when it is published (here, or when a moderator lets a held post through): the
    moment to award points for it."""
    now = now or utcnow()
    body = _clean(body, POST_MAX, N_("Please write something to post."),
                  N_("Please keep a post under %(limit)d characters."))
    check_can_write(session, user, club, daily_cap, now)
    word = blocked_word_in(session, body)
    post = ClubPost(club_id=club.id, author_id=user.id, body=body, photo_key=photo_key,
                    status=HELD if word else PUBLISHED, created_at=now,
                    held_reason=f"word filter: {word}" if word else None,
                    published_at=None if word else now)
    session.add(post)
    session.flush()
    return post


def create_comment(session: Session, user: User, post: ClubPost, body: str, daily_cap: int,
                   now: datetime | None = None) -> ClubComment:
    now = now or utcnow()
    body = _clean(body, COMMENT_MAX, N_("Please write a comment."),
                  N_("Please keep a comment under %(limit)d characters."))
    check_can_write(session, user, post.club, daily_cap, now)
    word = blocked_word_in(session, body)
    comment = ClubComment(post_id=post.id, author_id=user.id, body=body, created_at=now,
                          status=HELD if word else PUBLISHED,
                          held_reason=f"word filter: {word}" if word else None)
    session.add(comment)
    session.flush()
    return comment


def _visible(user: User):  # type: ignore[no-untyped-def]
    """Published, or held but the reader's own (they see it is waiting)."""
    return or_(ClubPost.status == PUBLISHED,
               (ClubPost.status == HELD) & (ClubPost.author_id == user.id))


def post_for_member(session: Session, user: User, post_id: int) -> ClubPost:
    """A post the member may read; NotFound for others' clubs, hidden posts and other
    people's held posts."""
    post = session.scalar(select(ClubPost).where(ClubPost.id == post_id, _visible(user))
                          .options(selectinload(ClubPost.author)))
    if post is None or not clubs.is_member(session, user, post.club_id):
        raise NotFound()
    return post


def comment_for_member(session: Session, user: User, comment_id: int) -> ClubComment:
    comment = session.get(ClubComment, comment_id)
    if comment is None or comment.status != PUBLISHED:
        raise NotFound()
    post_for_member(session, user, comment.post_id)
    return comment


@dataclass
class FeedPage:
    posts: list[ClubPost]
    number: int
    pages: int
    likes: dict[int, int] = field(default_factory=dict)
    liked: set[int] = field(default_factory=set)
    comments: dict[int, int] = field(default_factory=dict)


def feed(session: Session, user: User, club: Club, number: int = 1,
         per_page: int = PER_PAGE) -> FeedPage:
    """One page of the club's posts, newest first, for a member."""
    where = (ClubPost.club_id == club.id, _visible(user))
    total = session.scalar(select(func.count(ClubPost.id)).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, number), pages)
    posts = list(session.scalars(
        select(ClubPost).where(*where).options(selectinload(ClubPost.author))
        .order_by(ClubPost.created_at.desc(), ClubPost.id.desc())
        .offset((number - 1) * per_page).limit(per_page)))
    page = FeedPage(posts, number, pages)
    fill_counts(session, user, page)
    return page


def fill_counts(session: Session, user: User, page: FeedPage) -> None:
    ids = [p.id for p in page.posts]
    if not ids:
        return
    page.likes = dict(session.execute(  # type: ignore[arg-type]
        select(ClubLike.post_id, func.count(ClubLike.id)).where(ClubLike.post_id.in_(ids))
        .group_by(ClubLike.post_id)).all())
    page.liked = set(session.scalars(select(ClubLike.post_id).where(
        ClubLike.post_id.in_(ids), ClubLike.user_id == user.id)))
    page.comments = dict(session.execute(  # type: ignore[arg-type]
        select(ClubComment.post_id, func.count(ClubComment.id)).where(
            ClubComment.post_id.in_(ids), ClubComment.status == PUBLISHED)
        .group_by(ClubComment.post_id)).all())


def comments_for(session: Session, user: User, post: ClubPost) -> list[ClubComment]:
    """A post's comments, oldest first: published ones, and the reader's own held ones."""
    return list(session.scalars(
        select(ClubComment).where(ClubComment.post_id == post.id, or_(
            ClubComment.status == PUBLISHED,
            (ClubComment.status == HELD) & (ClubComment.author_id == user.id)))
        .options(selectinload(ClubComment.author))
        .order_by(ClubComment.created_at, ClubComment.id)))


def delete_own_post(session: Session, user: User, post: ClubPost) -> str | None:
    """The author takes their post down (with its comments, likes and reports); returns the
    photo key to delete once the transaction committed."""
    if post.author_id != user.id:
        raise NotFound()
    key = post.photo_key
    session.delete(post)
    session.flush()
    return key


# --- likes and reports -----------------------------------------------------------------------

def toggle_like(session: Session, user: User, post: ClubPost) -> bool:
    """Like, or take a like back; True when the post is now liked by `user`.

    One like per person and post is the table's unique key: two clicks arriving together
    cannot both insert, and the one that loses simply finds the post liked."""
    removed = session.execute(delete(ClubLike).where(ClubLike.post_id == post.id,
                                                     ClubLike.user_id == user.id))
    if getattr(removed, "rowcount", 0):
        return False
    try:
        with session.begin_nested():
            session.add(ClubLike(post_id=post.id, user_id=user.id))
    except IntegrityError:
        pass
    return True


def like_count(session: Session, post: ClubPost) -> int:
    return session.scalar(select(func.count(ClubLike.id)).where(
        ClubLike.post_id == post.id)) or 0


def liked(session: Session, user: User, post: ClubPost) -> bool:
    return session.scalar(select(ClubLike.id).where(
        ClubLike.post_id == post.id, ClubLike.user_id == user.id)) is not None


def report(session: Session, user: User, post: ClubPost, reason: str,
           comment: ClubComment | None = None, now: datetime | None = None) -> ClubReport:
    """Flag a post (or one of its comments) for the moderators. Reporting the same thing
    again while it is open changes nothing."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(N_("Please say briefly what is wrong."), "reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(N_("Please keep the reason under %(limit)d characters."),
                              "reason", limit=REASON_MAX)
    comment_id = comment.id if comment is not None else None
    open_one = session.scalar(select(ClubReport).where(
        ClubReport.post_id == post.id, ClubReport.reporter_id == user.id,
        ClubReport.resolved_at.is_(None),
        ClubReport.comment_id.is_(None) if comment_id is None
        else ClubReport.comment_id == comment_id))
    if open_one is not None:
        return open_one
    row = ClubReport(post_id=post.id, comment_id=comment_id, reporter_id=user.id,
                     reason=reason, created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row

