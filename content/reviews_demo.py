"""Demo product reviews for `flask demo load` (after the demo families and the content pack).

A few demo parents have reviewed two products of the default pack, one review hidden by the
demo reviewer (as if it were an advert), so the product pages show an average, a count and
the newest reviews, and /studio/reviews has something to look after. Safe to run again: a
product that already has reviews is left as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import library, reviews
from content.models import Product, ProductReview
from diary.models import User

REVIEWER = "reviewer@example.com"

#: (product sku, author, hours ago, rating, text, hidden by the demo reviewer)
REVIEWS = (
    ("BJ-BATH-001", "demo.twins@example.com", 200, 5,
     "Gentle on both twins' skin and it smells lovely.\nA bottle lasts us about a month.",
     False),
    ("BJ-BATH-001", "demo.preterm@example.com", 120, 4,
     "很温和，宝宝洗完皮肤不干。瓶子再大一点就好了。", False),
    ("BJ-BATH-001", "demo.newborn@example.com", 20, 4, "Lovely for the first baths.", False),
    ("BJ-BATH-001", "demo.preterm.dad@example.com", 5, 1, "加微信 baby-milk-888 买更便宜的",
     True),
    ("BJ-NAPPY-S", "demo.twins@example.com", 90, 5,
     "No leaks overnight with either twin, and the wetness line really helps.", False),
    ("BJ-NAPPY-S", "demo.preterm@example.com", 30, 3, "很柔软，夜里不漏，不过尺码偏小一点。",
     False),
)


@dataclass
class Made:
    reviews: list[ProductReview] = field(default_factory=list)
    hidden: int = 0

    def summary(self) -> str:
        return f"{len(self.reviews)} product reviews ({self.hidden} hidden by the reviewer)"


def load(session: Session, now: datetime) -> Made:
    """Write the demo reviews; returns the new ones (the caller gives the points)."""
    made = Made()
    people = {u.email: u for u in session.scalars(select(User).where(
        User.email.in_({r[1] for r in REVIEWS} | {REVIEWER})))}
    for sku, email, hours, rating, text, hide in REVIEWS:
        item = library.by_key(session, Product, sku, now)
        author = people.get(email)
        if item is None or author is None or author.staff_role is not None:
            continue
        if reviews.mine(session, author, item) is not None:
            continue
        at = now - timedelta(hours=hours)
        review, new = reviews.write(session, author, item, str(rating), text, at)
        if not new:
            continue
        made.reviews.append(review)
        staff = people.get(REVIEWER)
        if hide and staff is not None:
            reviews.hide(session, review.id, staff, at + timedelta(hours=1))
            made.hidden += 1
    return made
