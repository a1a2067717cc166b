"""Product reviews: a parent's rating (1–5) and a few words about a product.

One review per person per product: writing again edits it. Only parents write reviews (staff
accounts are refused with a message). Text is plain (shown escaped, line breaks kept; no
HTML, no Markdown). Staff hide a review (who and when is kept) and can restore it; a hidden
review is left out of the product page, its average and its count.

Functions take a Session and never commit; the caller owns the transaction (and gives or
takes back the points: the web layer's `rewards_glue`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from content.models import ContentItem, ProductReview
from diary.errors import N_, NotFound, PermissionDenied, ValidationError
from diary.models import User

TEXT_MAX = 2000
RATINGS = (1, 2, 3, 4, 5)
#: Reviews shown on a product page, newest first.
PAGE_REVIEWS = 10
#: Reviews listed in the studio, newest first.
STUDIO_LIMIT = 200


def parse_rating(value: object) -> int:
    """A rating from a form's value: a whole number 1–5, else a ValidationError."""
    text = str(value).strip() if value is not None else ""
    if text not in {str(r) for r in RATINGS}:
        raise ValidationError(N_("Choose a rating from 1 to 5 stars."), field="rating")
    rating = int(text)
    return rating


def clean_text(text: str | None) -> str:
    """The review's words: trimmed, Windows line ends made plain, at most TEXT_MAX."""
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(body) > TEXT_MAX:
        raise ValidationError(N_("Keep the review under %(max)d characters."), field="body",
                              max=TEXT_MAX)
    return body


#: What a staff account is told when it tries to write a review.
STAFF_REFUSAL = N_("Reviews are written by parents: staff accounts cannot write them.")


def _check_author(user: User) -> None:
    if user.staff_role is not None:
        raise PermissionDenied(STAFF_REFUSAL)


def mine(session: Session, user: User, item: ContentItem) -> ProductReview | None:
    return session.scalar(select(ProductReview).where(ProductReview.user_id == user.id,
                                                      ProductReview.item_id == item.id))


def write(session: Session, user: User, item: ContentItem, rating: object, text: str | None,
          now: datetime) -> tuple[ProductReview, bool]:
    """Write `user`'s review of `item`, or edit the one they wrote. Returns (review, new):
    `new` is True only when the row was made now (the first publish)."""
    _check_author(user)
    if item.kind != "product":
        raise NotFound()
    value = parse_rating(rating)
    body = clean_text(text)
    found = mine(session, user, item)
    if found is None:
        found = ProductReview(user_id=user.id, item_id=item.id, rating=value, body=body,
                              created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(found)
                session.flush()
            return found, True
        except IntegrityError:  # written at the same moment in another tab: edit that one
            found = mine(session, user, item)
            if found is None:
                raise
    found.rating = value
    found.body = body
    found.updated_at = now
    session.flush()
    return found, False


def own_review(session: Session, user: User, review_id: int) -> ProductReview:
    """The person's own review, else NotFound (another person's looks like a missing one)."""
    review = session.get(ProductReview, review_id)
    if review is None or review.user_id != user.id:
        raise NotFound()
    return review


def delete(session: Session, user: User, review_id: int) -> ProductReview:
    """Delete the person's own review; returns the deleted row (its id still readable)."""
    review = own_review(session, user, review_id)
    session.delete(review)
    session.flush()
    return review


@dataclass(frozen=True)
class Summary:
    count: int
    average: Decimal | None   # to one decimal place, half up (5, 4, 2 → 3.7)


def summary(session: Session, item: ContentItem) -> Summary:
    count, total = session.execute(
        select(func.count(ProductReview.id), func.coalesce(func.sum(ProductReview.rating), 0))
        .where(ProductReview.item_id == item.id, ProductReview.hidden_at.is_(None))).one()
    if not count:
        return Summary(0, None)
    average = (Decimal(int(total)) / Decimal(int(count))).quantize(Decimal("0.1"),
                                                                   rounding=ROUND_HALF_UP)
    return Summary(int(count), average)


@dataclass(frozen=True)
class Shown:
    review: ProductReview
    name: str       # the author's display name, nothing more


def visible(session: Session, item: ContentItem, limit: int = PAGE_REVIEWS) -> list[Shown]:
    """The newest visible reviews of a product, with their authors' display names."""
    rows = session.execute(
        select(ProductReview, User.display_name).join(User, User.id == ProductReview.user_id)
        .where(ProductReview.item_id == item.id, ProductReview.hidden_at.is_(None))
        .order_by(ProductReview.created_at.desc(), ProductReview.id.desc()).limit(limit))
    return [Shown(review, name) for review, name in rows]


@dataclass(frozen=True)
class StudioRow:
    review: ProductReview
    author: User
    item: ContentItem
    hidden_by: str | None


def studio_list(session: Session, limit: int = STUDIO_LIMIT) -> list[StudioRow]:
    """Every review, newest first, for staff (hidden ones too, marked)."""
    rows = session.execute(
        select(ProductReview, User, ContentItem)
        .join(User, User.id == ProductReview.user_id)
        .join(ContentItem, ContentItem.id == ProductReview.item_id)
        .order_by(ProductReview.created_at.desc(), ProductReview.id.desc()).limit(limit)).all()
    hiders = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(
        {r.hidden_by_id for r, _, _ in rows if r.hidden_by_id is not None})))}
    return [StudioRow(r, author, item, hiders.get(r.hidden_by_id) if r.hidden_by_id else None)
            for r, author, item in rows]


def hide(session: Session, review_id: int, staff: User, now: datetime) -> tuple[ProductReview,
                                                                             bool]:
    """Hide a review (recorded: who, when). Returns (review, changed)."""
    review = session.get(ProductReview, review_id)
    if review is None:
        raise NotFound()
    if review.hidden_at is not None:
        return review, False
    review.hidden_at = now
    review.hidden_by_id = staff.id
    session.flush()
    return review, True


def restore(session: Session, review_id: int, staff: User) -> tuple[ProductReview, bool]:
    """Show a hidden review again (who restored it is the staff access log's to keep; the
    web layer gives back the points taken when it was hidden)."""
    review = session.get(ProductReview, review_id)
    if review is None:
        raise NotFound()
    if review.hidden_at is None:
        return review, False
    review.hidden_at = None
    review.hidden_by_id = None
    session.flush()
    return review, True
