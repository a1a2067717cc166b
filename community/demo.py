"""Demo birth club for `flask demo load` (after the demo families and staff exist).

The main demo parent (Emma, demo.newborn@example.com) is in her baby's birth club with the
other demo families; they have posted, commented and liked, one post (an advert) is reported
and waits in the moderation queue, and the demo moderator (moderator@example.com, password
`demo-password`) is assigned to the club. Emma is also in the "Sleep" topic group. Safe to run
again: a club that already has posts is left as it is.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from community import clubs, moderation, posts
from community.models import ClubPost
from diary import accounts, families
from diary.demo import pictures
from diary.models import User
from diary.photos import PhotoStore, process_upload

MAIN_PARENT = "demo.newborn@example.com"
MODERATOR = ("moderator@example.com", "Mo Moderator")
ADMIN = "admin@example.com"
PASSWORD = "demo-password"
CAP = 10_000  # the demo writes as many as it likes

#: (author, hours ago, text, photo motif or None)
POSTS = (
    ("demo.twins@example.com", 70, "Hello everyone! Mine are two now, but I remember these "
     "first weeks so well. **Sleep when the baby sleeps** is the only advice I'd repeat.",
     None),
    ("demo.expecting@example.com", 52, "大家好！我还在孕期，想提前听听大家的经验：待产包里"
     "哪些东西最实用？", None),
    (MAIN_PARENT, 30, "Two weeks in and we finally had a 3-hour stretch last night. "
     "Small wins!\n\nWhat helped you with cluster feeding in the evenings?", "moon"),
    ("demo.preterm@example.com", 6, "专业代购进口奶粉，价格全网最低，加我微信 baby-milk-888",
     None),
)
#: (author, on post number, hours after the post, text)
COMMENTS = (
    ("demo.twins@example.com", 2, 1, "Evenings were the hardest for us too. A sling and a "
     "box set saved me."),
    ("demo.preterm.dad@example.com", 2, 3, "加油！我们家也是这样过来的，慢慢会好的。"),
    (MAIN_PARENT, 1, 2, "Nursing pads and a long phone charger, honestly!"),
    ("demo.twins@example.com", 1, 5, "A water bottle with a straw. And snacks within reach."),
)
#: (liker, post number)
LIKES = (("demo.twins@example.com", 2), ("demo.expecting@example.com", 2),
         ("demo.preterm.dad@example.com", 2), (MAIN_PARENT, 0), (MAIN_PARENT, 1),
         ("demo.expecting@example.com", 0))
WORDS = ("代购", "加我微信", "miracle cure")


@dataclass
class DemoClubs:
    club: str = ""
    posts: int = 0
    created: bool = False

    def summary(self) -> str:
        if not self.club:
            return "Birth club: the main demo parent is missing; nothing made."
        if not self.created:
            return "Birth club: already loaded."
        return (f"Birth club {self.club}: {self.posts} posts, one reported in the queue; "
                f"moderator login {MODERATOR[0]} (password {PASSWORD}).")


def _user(session: Session, email: str) -> User | None:
    return accounts.find_user_by_email(session, email)


def load(session: Session, store: PhotoStore, now: datetime) -> DemoClubs:
    report = DemoClubs()
    main = _user(session, MAIN_PARENT)
    if main is None:
        return report
    child = families.children_of(session, main)[0]
    club = clubs.join_birth_club(session, main, child)
    assert club is not None and club.month is not None
    report.club = club.month.strftime("%Y-%m")
    moderator = _user(session, MODERATOR[0]) or accounts.create_staff(
        session, MODERATOR[0], PASSWORD, "moderator", MODERATOR[1])
    admin = _user(session, ADMIN)
    if admin is not None:
        moderation.assign(session, admin, moderator, club)
    groups = clubs.ensure_topic_groups(session)
    clubs.join(session, main, groups[0])
    if session.scalar(select(ClubPost.id).where(ClubPost.club_id == club.id).limit(1)):
        return report
    people = {email: _user(session, email) for email in
              {a for a, *_ in POSTS} | {a for a, *_ in COMMENTS} | {a for a, _ in LIKES}}
    for person in people.values():
        if person is not None:
            clubs.join(session, person, club)
    rng = random.Random("demo-birth-club")
    made: list[ClubPost] = []
    for email, hours, text, motif in POSTS:
        author = people[email]
        if author is None:
            continue
        key = None
        if motif is not None:
            key = store.save(process_upload(pictures.picture(rng, motif, "")))
        made.append(posts.create_post(session, author, club, text, key, CAP,
                                      now - timedelta(hours=hours)))
    report.posts = len(made)
    for email, index, after, text in COMMENTS:
        author = people[email]
        if author is not None and index < len(made):
            posts.create_comment(session, author, made[index], text, CAP,
                                 made[index].created_at + timedelta(hours=after))
    for email, index in LIKES:
        liker = people[email]
        if liker is not None and index < len(made):
            posts.toggle_like(session, liker, made[index])
    if len(made) == len(POSTS):
        posts.report(session, main, made[-1], "Advertising, not a parent's post.",
                     now=now - timedelta(hours=2))
    for word in WORDS:
        if word not in posts.blocked_words(session):
            moderation.add_word(session, admin or moderator, word, now)
    session.flush()
    report.created = True
    return report
