"""Clubs and who is in them: birth clubs made on demand for a month, topic groups made by
staff, joining and leaving.

Nothing here names a child: a birth club is found from a child's due or birth month, and
only the month is kept (the club), never which child led a parent there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.models import BIRTH, TOPIC, Club, ClubMember
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.models import Child, User

#: The topic groups a new site starts with (migration 0009c and `ensure_topic_groups`).
SHIPPED_GROUPS = (
    ("sleep", "Sleep", "睡眠", "Naps, nights and everything in between.",
     "小睡、夜觉，以及其间的一切。"),
    ("feeding", "Feeding", "喂养", "Breast, bottle, and the first spoonfuls.",
     "母乳、奶瓶和第一口辅食。"),
    ("returning-to-work", "Returning to work", "重返职场",
     "Childcare, pumping at work and finding a rhythm again.",
     "托育、职场背奶，重新找到生活节奏。"),
)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def month_of(day: date) -> date:
    return day.replace(day=1)


def birth_month(child: Child) -> date | None:
    """The month a child's birth club is for: born → the birth month, else the due month."""
    day = child.birth_date or child.due_date
    return None if day is None else month_of(day)


def _get_or_create(session: Session, query: object, make: Club) -> Club:
    """The one row matching `query`, inserted as `make` if there is none. Two requests
    creating the same club at once: the unique key lets one insert win, the other reads it."""
    found = session.scalar(query)  # type: ignore[call-overload]
    if found is not None:
        return found  # type: ignore[no-any-return]
    try:
        with session.begin_nested():
            session.add(make)
        return make
    except IntegrityError:
        found = session.scalar(query)  # type: ignore[call-overload]
        assert found is not None
        return found  # type: ignore[no-any-return]


def birth_club(session: Session, month: date) -> Club:
    """The club for babies due or born in `month`, made the first time someone needs it."""
    month = month_of(month)
    return _get_or_create(session, select(Club).where(Club.kind == BIRTH, Club.month == month),
                          Club(kind=BIRTH, month=month))


def ensure_topic_groups(session: Session) -> list[Club]:
    """The shipped topic groups (made if missing; staff may rename them)."""
    made = []
    for slug, name_en, name_zh, about_en, about_zh in SHIPPED_GROUPS:
        made.append(_get_or_create(session, select(Club).where(Club.slug == slug), Club(
            kind=TOPIC, slug=slug, name_en=name_en, name_zh=name_zh, description_en=about_en,
            description_zh=about_zh)))
    return made


@dataclass
class GroupInput:
    slug: str
    name_en: str
    name_zh: str
    description_en: str = ""
    description_zh: str = ""

    def validated(self) -> GroupInput:
        slug = self.slug.strip().lower()
        if not SLUG.match(slug):
            raise ValidationError(N_("Use 3 to 40 lowercase letters, digits and hyphens."),
                                  "slug")
        name_en, name_zh = self.name_en.strip(), self.name_zh.strip()
        if not name_en or not name_zh:
            raise ValidationError(N_("Give the group a name in both languages."), "name_en")
        return GroupInput(slug, name_en[:80], name_zh[:80], self.description_en.strip()[:300],
                          self.description_zh.strip()[:300])


def create_topic_group(session: Session, staff: User, data: GroupInput) -> Club:
    data = data.validated()
    if session.scalar(select(Club.id).where(Club.slug == data.slug)) is not None:
        raise Conflict(N_("There is already a group with that short name."), "slug")
    club = Club(kind=TOPIC, slug=data.slug, name_en=data.name_en, name_zh=data.name_zh,
                description_en=data.description_en, description_zh=data.description_zh,
                created_by_id=staff.id)
    session.add(club)
    session.flush()
    return club


def get_club(session: Session, club_id: int) -> Club:
    club = session.get(Club, club_id)
    if club is None:
        raise NotFound()
    return club


def is_member(session: Session, user: User, club_id: int) -> bool:
    return session.scalar(select(ClubMember.id).where(
        ClubMember.club_id == club_id, ClubMember.user_id == user.id)) is not None


def club_for_member(session: Session, user: User, club_id: int) -> Club:
    """The club, if `user` is in it; NotFound otherwise (its posts are for members only, and
    from outside a club one cannot tell what is in it)."""
    club = session.get(Club, club_id)
    if club is None or not is_member(session, user, club_id):
        raise NotFound()
    return club


def join(session: Session, user: User, club: Club) -> bool:
    """Join (True), or nothing when already in (False); safe against a double click."""
    if user.is_staff:
        raise ValidationError(N_("Staff accounts do not join clubs."))
    if is_member(session, user, club.id):
        return False
    try:
        with session.begin_nested():
            session.add(ClubMember(club_id=club.id, user_id=user.id))
    except IntegrityError:
        return False
    return True


def join_birth_club(session: Session, user: User, child: Child) -> Club | None:
    """Join the birth club of `child`'s due or birth month (made if needed)."""
    month = birth_month(child)
    if month is None:
        return None
    club = birth_club(session, month)
    join(session, user, club)
    return club


def leave(session: Session, user: User, club: Club) -> bool:
    result = session.execute(delete(ClubMember).where(ClubMember.club_id == club.id,
                                                       ClubMember.user_id == user.id))
    return bool(getattr(result, "rowcount", 0))


def _ordered(query):  # type: ignore[no-untyped-def]
    return query.order_by(Club.kind, Club.month.desc(), Club.name_en, Club.id)


def my_clubs(session: Session, user: User) -> list[Club]:
    return list(session.scalars(_ordered(select(Club).join(
        ClubMember, ClubMember.club_id == Club.id).where(ClubMember.user_id == user.id))))


def other_clubs(session: Session, user: User) -> list[Club]:
    """Clubs `user` could join: every topic group, and birth clubs that exist."""
    mine = select(ClubMember.club_id).where(ClubMember.user_id == user.id)
    return list(session.scalars(_ordered(select(Club).where(Club.id.not_in(mine)))))


def months_to_join(session: Session, user: User, children: list[Child]) -> list[date]:
    """The birth months of `user`'s children whose club they are not in (each once)."""
    joined = {c.month for c in my_clubs(session, user) if c.kind == BIRTH}
    months = {m for m in (birth_month(c) for c in children) if m is not None}
    return sorted(months - joined)


def member_counts(session: Session, club_ids: list[int]) -> dict[int, int]:
    if not club_ids:
        return {}
    return dict(session.execute(  # type: ignore[arg-type]
        select(ClubMember.club_id, func.count(ClubMember.id))
        .where(ClubMember.club_id.in_(club_ids)).group_by(ClubMember.club_id)).all())


def all_clubs(session: Session) -> list[Club]:
    return list(session.scalars(_ordered(select(Club))))
