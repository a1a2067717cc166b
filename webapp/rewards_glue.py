"""Where the site's pages give and take back reward points, and what a redemption starts.

The glue between the diary, care (surveys answered, the redemption's ticket), community
(club posts) and `rewards` lives here in the web layer: those packages never import each
other sideways.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext
from sqlalchemy.orm import Session

from care import tickets
from care.models import SurveyOffer
from clock import utcnow
from community.models import ClubPost
from content.models import ProductReview
from diary import milestones
from diary.models import Child, Entry, User
from rewards import points
from rewards.models import Redemption, RewardItem
from webapp.i18n import current_locale
from webapp.tickets import policy_from


def entry_created(tx: Session, user: User, entry: Entry) -> None:
    """A diary entry was written (same transaction): its kind's points, maybe a streak."""
    points.award_for_entry(tx, user, entry, utcnow())


def entries_deleting(tx: Session, entries: Iterable[Entry]) -> None:
    """Entries are about to be deleted (same transaction): what they earned goes back."""
    now = utcnow()
    for entry in entries:
        points.reverse_for_entry(tx, entry, now)


def untick_milestone(tx: Session, child: Child, milestone_id: str, *, keep_entry: bool = False,
                     confirmed: str | None = None) -> list[str]:
    """diary.milestones.untick, with the points of the entries it deletes taken back first
    (same transaction). Returns the photo keys to remove after the commit; raises what
    untick raises (ConfirmUntick when the parent added to the entry)."""
    if not keep_entry:
        doomed = milestones.untick_preview(tx, child, milestone_id).entries
        entries_deleting(tx, [ticked.entry for ticked in doomed])
    return milestones.untick(tx, child, milestone_id, keep_entry=keep_entry,
                             confirmed=confirmed)


def redemption_made(tx: Session, redemption: Redemption) -> None:
    """A parent redeemed a sample (same transaction, before the commit): a ticket for the
    service team, in the parent's words and language, so the request has a due time, a
    thread for questions ("which size?") and a place on the customer's record."""
    user = tx.get(User, redemption.user_id)
    item = tx.get(RewardItem, redemption.item_id)
    if user is None or item is None:
        return
    name = item.name(current_locale())
    tickets.open_ticket(tx, user, tickets.TicketInput(
        category="sample", severity="normal",
        subject=gettext("Sample request: %(name)s", name=name),
        body=gettext("I asked for the sample “%(name)s” for %(points)d points (request "
                     "#%(number)d). The address is with the request.", name=name,
                     points=redemption.cost, number=redemption.id)),
        policy_from(current_app.config))


def survey_answered(tx: Session, offer: SurveyOffer) -> None:
    """A survey was answered (on the site or from an email's link): its points, once."""
    user = tx.get(User, offer.user_id)
    if user is not None:
        points.award(tx, user, "survey", f"survey:{offer.id}", now=utcnow())


def club_post_published(tx: Session, post: ClubPost) -> None:
    """A club post was published for the first time: its points, within the daily cap."""
    user = tx.get(User, post.author_id)
    if user is not None:
        points.award(tx, user, "club_post", f"club_post:{post.id}", now=utcnow())


def club_post_removed(tx: Session, post: ClubPost) -> None:
    """A club post was deleted by its author or hidden by a moderator: its points go back,
    so posting and deleting earns nothing."""
    points.reverse_ref(tx, f"club_post:{post.id}", utcnow())


def club_post_restored(tx: Session, post: ClubPost) -> None:
    """A moderator restored a hidden post: what hiding took back is given back."""
    points.restore_ref(tx, f"club_post:{post.id}", utcnow())


def review_published(tx: Session, review: ProductReview) -> None:
    """A product review was published for the first time (editing it earns nothing more)."""
    user = tx.get(User, review.user_id)
    if user is not None:
        points.award(tx, user, "review", f"review:{review.id}", now=utcnow())


def review_removed(tx: Session, review: ProductReview) -> None:
    """A review was deleted by its author or hidden by staff: its points go back."""
    points.reverse_ref(tx, f"review:{review.id}", utcnow())


def review_restored(tx: Session, review: ProductReview) -> None:
    """Staff restored a hidden review: what hiding took back is given back."""
    points.restore_ref(tx, f"review:{review.id}", utcnow())
