"""Where the site's pages give and take back reward points, and what a redemption starts.

The glue between the diary (and, at merge, care and community) and `rewards` lives here in
the web layer: the domain packages never import each other sideways.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from clock import utcnow
from diary.models import Entry, User
from rewards import points
from rewards.models import Redemption


def entry_created(tx: Session, user: User, entry: Entry) -> None:
    """A diary entry was written (same transaction): its kind's points, maybe a streak."""
    points.award_for_entry(tx, user, entry, utcnow())


def entries_deleting(tx: Session, entries: Iterable[Entry]) -> None:
    """Entries are about to be deleted (same transaction): what they earned goes back."""
    now = utcnow()
    for entry in entries:
        points.reverse_for_entry(tx, entry, now)


def redemption_made(tx: Session, redemption: Redemption) -> None:
    """A parent redeemed a sample (same transaction, before the commit). The hook for what a
    redemption starts besides itself: at merge, the service team's ticket."""
