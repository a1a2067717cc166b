"""Draft → in review → published → archived, with scheduled publication and roles.

Marketers write and submit; reviewers (and admins) approve and publish. When review is not
required (a site setting), marketers may publish their own work.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from content.authoring import ItemInput, apply_snapshot, latest_version, record
from content.errors import N_, PermissionDenied, ValidationError
from content.models import ContentItem, Status
from clock import utcnow
from diary import bounds
from diary.models import User

EDITORS = ("marketer", "reviewer", "admin")
PUBLISHERS = ("reviewer", "admin")


def can_edit(user: User) -> bool:
    return user.staff_role in EDITORS


def can_publish(user: User, review_required: bool) -> bool:
    return user.staff_role in PUBLISHERS or (not review_required and can_edit(user))


def _require_edit(user: User) -> None:
    if not can_edit(user):
        raise PermissionDenied(N_("Only marketers, reviewers and admins can change content."))


def submit(item: ContentItem, user: User) -> None:
    """Ask for review: a draft goes "in review"; a live item's waiting edit is flagged."""
    _require_edit(user)
    if item.status == Status.DRAFT.value:
        item.status = Status.IN_REVIEW.value
    elif not item.pending_review:
        raise ValidationError(N_("There is nothing waiting to be reviewed."))
    item.submitted_by_id = user.id


def publish(session: Session, item: ContentItem, user: User, review_required: bool,
            at: datetime | None = None) -> None:
    """Approve and publish now, or on `at` (scheduled). Applies a waiting edit first."""
    if not can_publish(user, review_required):
        raise PermissionDenied(N_("A reviewer must approve this before it is published."))
    publish_reviewed(session, item, at)


def publish_reviewed(session: Session, item: ContentItem, at: datetime | None = None) -> None:
    """Publish content reviewed elsewhere (a pack import); callers check permissions."""
    if item.status == Status.ARCHIVED.value:
        raise ValidationError(N_("Restore this item to a draft before publishing it."))
    latest = latest_version(session, item)
    if latest is not None and latest.number > item.version:
        apply_snapshot(session, item, ItemInput.from_snapshot(latest.snapshot), latest.number)
    item.pending_review = False
    item.status = Status.PUBLISHED.value
    if at is not None:
        if at.tzinfo is None:
            raise ValueError("publish time must be timezone-aware")
        bounds.check_instant(at, "publish_at")
        item.publish_at = at
    elif item.publish_at is not None and item.publish_at > utcnow():
        pass  # keep the schedule the author set
    item.published_at = utcnow()


def reject(session: Session, item: ContentItem, user: User, review_required: bool) -> None:
    """Send back to the author: an in-review draft returns to draft; a waiting edit to a live
    item is set aside by saving the live text again as the newest version, so a later
    publish cannot put the rejected text live (it stays in the history)."""
    if not can_publish(user, review_required):
        raise PermissionDenied(N_("Only a reviewer can send content back."))
    if item.status == Status.IN_REVIEW.value:
        item.status = Status.DRAFT.value
    if item.pending_review:
        record(session, item, ItemInput.from_item(item), user, note="Sent back by reviewer",
               apply=True)
    item.pending_review = False


def archive(item: ContentItem, user: User, review_required: bool) -> None:
    if not can_publish(user, review_required) and item.status == Status.PUBLISHED.value:
        raise PermissionDenied(N_("A reviewer must take published content down."))
    _require_edit(user)
    item.status = Status.ARCHIVED.value


def restore(item: ContentItem, user: User) -> None:
    _require_edit(user)
    if item.status != Status.ARCHIVED.value:
        raise ValidationError(N_("Only archived items can be restored."))
    item.status = Status.DRAFT.value


def status_label(item: ContentItem, now: datetime) -> str:
    """"scheduled" for published items whose time has not come, else the status."""
    if item.status == Status.PUBLISHED.value and item.publish_at and item.publish_at > now:
        return "scheduled"
    return item.status
