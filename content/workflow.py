"""Draft → in review → published → archived, with scheduled publication and roles.

Marketers write and submit; reviewers (and admins) approve and publish. When review is not
required (a site setting), marketers may publish their own work.

Two rules close the ways around review:

* Publishing names the version that was reviewed (`publish(..., version=N)`). If anyone has
  saved a newer version since the reviewer opened the page, nothing is published and
  `StaleVersion` says which version is there now and who wrote it.
* Nobody approves their own edit (see `publish` for what "own" means). An admin may
  override that with a reason; the override is recorded (`content.models.Publication`) and
  shown on the item's history page. Every publication is recorded, also with review off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clock import utcnow
from content.authoring import ItemInput, apply_snapshot, latest_version, record, record_publication
from content.errors import N_, PermissionDenied, StaleVersion, ValidationError
from content.models import ContentItem, Publication, PublishMode, Status, Version
from diary import bounds
from diary.models import User

EDITORS = ("marketer", "reviewer", "admin")
PUBLISHERS = ("reviewer", "admin")
OVERRIDERS = ("admin",)
REASON_MAX = 300
OWN_EDIT = N_("You wrote or changed this version, so another reviewer must approve it.")
OWN_IMPORT = N_("You are importing these items yourself, so a second reviewer must approve "
                "them. Import without publishing: they are sent for review.")
OVERRIDE_NEEDED = N_("You wrote or changed this version. To publish it without a second "
                     "reviewer, tick the admin override and give a reason.")
NEEDS_REASON = N_("Give a reason for publishing without a second reviewer.")


def can_edit(user: User) -> bool:
    return user.staff_role in EDITORS


def can_publish(user: User, review_required: bool) -> bool:
    """May this role publish at all (the person may still be refused for their own edit)."""
    return user.staff_role in PUBLISHERS or (not review_required and can_edit(user))


def require_publisher(user: User, review_required: bool) -> None:
    """Refuse roles that may not publish at all (before looking at what they sent)."""
    if not can_publish(user, review_required):
        raise PermissionDenied(N_("A reviewer must approve this before it is published."))


def _require_edit(user: User) -> None:
    if not can_edit(user):
        raise PermissionDenied(N_("Only marketers, reviewers and admins can change content."))


@dataclass(frozen=True)
class Review:
    """What a publish of an item would put live now, and who wrote it.

    `version` is the number a publish must name; `since` the last approved version (0 if
    none); `authors` the ids of everyone who saved a version after `since` up to `version`,
    newest first (None, the system, is left out: it is nobody)."""

    version: int
    since: int
    authors: tuple[int, ...]
    newest: Version | None

    def is_own(self, user: User) -> bool:
        return user.id in self.authors


def approved_baseline(session: Session, item: ContentItem) -> int:
    """The newest version families were shown with approval: the live version of a
    published item (also while it waits for its scheduled time); for a draft, the newest
    version ever published; 0 for an item never published."""
    if item.status == Status.PUBLISHED.value:
        return item.version
    return session.scalar(select(func.max(Publication.version))
                          .where(Publication.item_id == item.id)) or 0


def under_review(session: Session, item: ContentItem) -> Review:
    newest = latest_version(session, item)
    number = newest.number if newest is not None else item.version
    since = approved_baseline(session, item)
    authors: list[int] = []
    for author_id in session.scalars(
            select(Version.created_by_id).where(Version.item_id == item.id,
                                                Version.number > since,
                                                Version.number <= number)
            .order_by(Version.number.desc())):
        if author_id is not None and author_id not in authors:
            authors.append(author_id)
    return Review(version=number, since=since, authors=tuple(authors), newest=newest)


def needs_override(review: Review, user: User, review_required: bool) -> bool:
    """An admin about to publish their own change: only with an override and a reason."""
    return review_required and review.is_own(user) and user.staff_role in OVERRIDERS


def refusal(review: Review, user: User, review_required: bool) -> str | None:
    """Why `user` may not publish this version (an `N_` message), or None if they may
    (possibly by an admin override, see `needs_override`)."""
    if not can_publish(user, review_required):
        return N_("A reviewer must approve this before it is published.")
    if review_required and review.is_own(user) and user.staff_role not in OVERRIDERS:
        return OWN_EDIT
    return None


def submit(item: ContentItem, user: User) -> None:
    """Ask for review: a draft goes "in review"; a live item's waiting edit is flagged."""
    _require_edit(user)
    if item.status == Status.DRAFT.value:
        item.status = Status.IN_REVIEW.value
    elif not item.pending_review:
        raise ValidationError(N_("There is nothing waiting to be reviewed."))
    item.submitted_by_id = user.id


def publish(session: Session, item: ContentItem, user: User, review_required: bool, *,
            version: int, at: datetime | None = None,
            override_reason: str | None = None) -> Publication:
    """Approve version `version` of `item` and publish it now, or on `at` (scheduled).

    `version` is the number the reviewer was shown (the form's hidden field). A waiting
    edit is applied first; if anyone saved a newer version than `version` since — a draft
    edited, a waiting edit replaced — `StaleVersion` is raised and nothing changes.

    Nobody approves their own edit. *Own* means: you saved any version after the last
    approved one (`approved_baseline`: what families see of a published item; for a draft,
    the newest version ever published, else the first version) up to the one going live.
    Co-writing counts — a reviewer who changed one sentence of a marketer's draft wrote part
    of what would go live — so someone who saved none of those versions must approve. A
    revert counts as a save by whoever reverted. Submitting, sending back (the live text
    saved again) and earlier approvals are not authorship; versions the system saved
    (command-line imports) are nobody's.

    An admin may publish their own change only with `override_reason` (None: no override
    asked for; it must hold a reason); the override is recorded with who, when, which
    version and why. With review off (`review_required` False) editors publish alone, and
    who published is still recorded.
    """
    require_publisher(user, review_required)
    _lock(session, item)
    if item.status == Status.ARCHIVED.value:
        raise ValidationError(N_("Restore this item to a draft before publishing it."))
    review = under_review(session, item)
    _check_version(session, review, version)
    mode, reason = PublishMode.NO_REVIEW, ""
    if review_required:
        mode = PublishMode.REVIEW
        if review.is_own(user):
            if user.staff_role not in OVERRIDERS:
                raise PermissionDenied(OWN_EDIT)
            reason = _reason(override_reason)
            mode = PublishMode.OVERRIDE
    _make_live(session, item, review, at)
    return record_publication(session, item, review.version, user, mode, reason)


def check_publish_own(user: User, review_required: bool, override_reason: str | None) -> None:
    """Before publishing what `user` is bringing in themself (a pack import): allowed with
    review off, or for an admin with a reason (recorded per item by `publish`)."""
    require_publisher(user, review_required)
    if review_required:
        if user.staff_role not in OVERRIDERS:
            raise PermissionDenied(OWN_IMPORT)
        _reason(override_reason)


def publish_reviewed(session: Session, item: ContentItem, at: datetime | None = None, *,
                     reason: str = "Content pack reviewed before it shipped") -> Publication:
    """The system's publish — the command line, demo data, tests: no person approves and no
    version was shown, so there is nothing to compare. Recorded as mode "system" with
    `reason`. Never call this for a person's request; use `publish`."""
    _lock(session, item)
    if item.status == Status.ARCHIVED.value:
        raise ValidationError(N_("Restore this item to a draft before publishing it."))
    review = under_review(session, item)
    _make_live(session, item, review, at)
    return record_publication(session, item, review.version, None, PublishMode.SYSTEM, reason)


def _lock(session: Session, item: ContentItem) -> None:
    """Hold the item's row while checking and publishing (PostgreSQL: SELECT … FOR UPDATE),
    so a save that lands meanwhile waits and is seen, never half-overwritten."""
    session.flush()
    session.refresh(item, with_for_update=True)


def _check_version(session: Session, review: Review, reviewed: int) -> None:
    if reviewed < 1 or reviewed > review.version:
        raise ValidationError(N_("This item has no version %(number)d. Reload the page and "
                                 "try again."), "version", number=reviewed)
    if reviewed != review.version:
        author_id = review.newest.created_by_id if review.newest is not None else None
        author = session.get(User, author_id) if author_id is not None else None
        raise StaleVersion(reviewed, review.version,
                           author.display_name if author is not None else N_("the system"))


def _reason(text: str | None) -> str:
    """The override's reason: None means no override was asked for."""
    if text is None:
        raise ValidationError(OVERRIDE_NEEDED, "override")
    reason = " ".join(text.split())
    if not reason:
        raise ValidationError(NEEDS_REASON, "reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(N_("Keep the reason under %(max)d characters."), "reason",
                              max=REASON_MAX)
    return reason


def _make_live(session: Session, item: ContentItem, review: Review,
               at: datetime | None) -> None:
    if at is not None and at.tzinfo is None:
        raise ValueError("publish time must be timezone-aware")
    if at is not None:
        bounds.check_instant(at, "publish_at")
    newest = review.newest
    if newest is not None and newest.number > item.version:
        apply_snapshot(session, item, ItemInput.from_snapshot(newest.snapshot), newest.number)
    item.pending_review = False
    item.status = Status.PUBLISHED.value
    if at is not None:
        item.publish_at = at
    # else: keep a future schedule the author set (or none)
    item.published_at = utcnow()
    session.flush()


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
