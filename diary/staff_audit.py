"""The staff access log: record every staff read of customer data; search and export it.

Who (the staff member, with the member number and role they had), when (UTC), what kind of
page ("family_lookup", "family_journey", …), by which route and request, from which address,
and whom: every customer (person and family) the page showed. A look-up by email keeps only
the kind of search ("email"), never the address typed; member numbers are kept.

The log is append-only: the ORM refuses to update or delete its rows (per object and in bulk
statements; see `diary.models.audit`), the web app has no page that changes it, and it has
no foreign keys, so deleting a customer or a staff account changes nothing that was recorded.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from clock import utcnow
from diary.errors import N_, ValidationError
from diary.models import Family, StaffAccess, StaffAccessSubject, User

#: The kinds of pages that show customer data (the web layer gives them their labels).
FAMILY_LOOKUP = "family_lookup"  # a look-up by member number or email
FAMILY_JOURNEY = "family_journey"  # a member's families, children, journeys and deliveries
OUTBOX = "outbox"  # the outbox: failed and dead emails with their recipients' addresses
AUDIT_LOG = "audit_log"  # this log (it shows which customers staff looked at)
AUDIT_EXPORT = "audit_export"  # this log as CSV
CRM_VALUE = "crm_value"  # the CRM's value page: the top customers by CLV
CRM_DUE = "crm_due"  # the CRM's due list: customers whose child enters a stage or size
SEGMENT_MEMBERS = "segment_members"  # a few members of a saved segment (crm)
SEGMENT_EXPORT = "segment_export"  # a segment's members as CSV
CUSTOMER_SEARCH = "customer_search"  # a customer search and the customers it listed
CUSTOMER_VIEW = "customer_360"  # one customer's whole page
CUSTOMER_DUPLICATES = "customer_duplicates"  # the list of accounts that look like one person
CUSTOMER_MERGE = "customer_merge"  # a merge's preview or its record
CRM_CHURN = "crm_churn"  # the CRM's churn-risk list: customers drifting away
TICKET_QUEUE = "ticket_queue"  # the service team's ticket queue (customers' names, subjects)
TICKET_VIEW = "ticket_view"  # one ticket: the conversation, notes and photos
TICKET_PRIVACY = "ticket_privacy"  # a privacy request fulfilled: data export or deletion
REWARD_REDEMPTIONS = "reward_redemptions"  # the samples parents asked for, with addresses
SURVEY_FOLLOW_UPS = "survey_follow_ups"  # low survey scores to follow up, with their customers
WHAT = (FAMILY_LOOKUP, FAMILY_JOURNEY, OUTBOX, AUDIT_LOG, AUDIT_EXPORT, CRM_VALUE, CRM_DUE,
        SEGMENT_MEMBERS, SEGMENT_EXPORT, CUSTOMER_SEARCH, CUSTOMER_VIEW, CUSTOMER_DUPLICATES,
        CUSTOMER_MERGE, CRM_CHURN, TICKET_QUEUE, TICKET_VIEW, TICKET_PRIVACY, REWARD_REDEMPTIONS,
        SURVEY_FOLLOW_UPS)
#: How a search looked: a member number, an email address, a phone number, or any other
#: text (a name, a child's name, an order id). Only member numbers are kept as typed.
SEARCH_KINDS = ("member_no", "email", "phone", "text")
MEMBER_NO = re.compile(r"^BJ\d{8}$")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Where:
    """The request a read came in: method, URL rule, path (no query), request id, address."""

    method: str
    route: str
    path: str
    request_id: str
    ip: str | None = None


@dataclass(frozen=True)
class Subject:
    user_id: int | None = None
    member_no: str | None = None
    family_id: int | None = None


def subjects(users: Iterable[User | None] = (), families: Iterable[Family] = ()
             ) -> list[Subject]:
    """Each person and family once, in the order first seen."""
    seen: dict[Subject, None] = {}
    for user in users:
        if user is not None:
            seen.setdefault(Subject(user_id=user.id, member_no=user.member_no))
    for family in families:
        seen.setdefault(Subject(family_id=family.id))
    return list(seen)


def search_kind(query: str) -> str | None:
    """How a staff look-up searches: by "member_no", by "email", or not at all (None)."""
    text = (query or "").strip()
    if MEMBER_NO.match(text.upper()):
        return "member_no"
    return "email" if "@" in text else None


def record(session: Session, staff: User, what: str, where: Where, *,
           users: Iterable[User | None] = (), families: Iterable[Family] = (),
           kind: str | None = None, term: str | None = None,
           now: datetime | None = None) -> StaffAccess:
    """Add one access row (and its subjects) to the caller's transaction.

    `term` is kept only for member-number searches: whatever else was typed (an email
    address) is dropped here, so no caller can store it by mistake."""
    if not staff.is_staff:
        raise ValidationError(N_("Only staff reads are recorded."))
    if what not in WHAT:
        raise ValidationError(N_("Unknown kind of access."))
    if kind is not None and kind not in SEARCH_KINDS:
        raise ValidationError(N_("Unknown kind of search."))
    kept = (term or "").strip().upper()
    access = StaffAccess(
        at=now or utcnow(), staff_user_id=staff.id, staff_member_no=staff.member_no,
        staff_role=staff.staff_role or "", what=what, method=where.method[:8],
        route=where.route[:200], path=where.path[:300], search_kind=kind,
        search_term=kept if kind == "member_no" and MEMBER_NO.match(kept) else None,
        request_id=where.request_id[:64], ip=(where.ip or None) and where.ip[:45])
    access.subjects = [StaffAccessSubject(user_id=s.user_id, member_no=s.member_no,
                                          family_id=s.family_id)
                       for s in subjects(users, families)]
    session.add(access)
    session.flush()
    return access


# --- reading the log -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    staff_user_id: int | None = None
    member_no: str | None = None  # a customer's member number
    what: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


def _filtered(filters: Filters) -> Select[Any]:
    query = select(StaffAccess.id)
    if filters.staff_user_id is not None:
        query = query.where(StaffAccess.staff_user_id == filters.staff_user_id)
    if filters.what:
        query = query.where(StaffAccess.what == filters.what)
    if filters.since is not None:
        query = query.where(StaffAccess.at >= filters.since)
    if filters.until is not None:
        query = query.where(StaffAccess.at < filters.until)
    if filters.member_no:
        member_no = filters.member_no.strip().upper()
        query = query.where(
            StaffAccess.id.in_(select(StaffAccessSubject.access_id)
                               .where(StaffAccessSubject.member_no == member_no))
            | (StaffAccess.search_term == member_no))
    return query


@dataclass
class Page:
    items: list[StaffAccess]
    total: int
    number: int
    pages: int


def search(session: Session, filters: Filters, page: int = 1, per_page: int = PAGE_SIZE
           ) -> Page:
    """Newest first, `per_page` at a time."""
    ids = _filtered(filters)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    items = list(session.scalars(
        select(StaffAccess).where(StaffAccess.id.in_(ids))
        .order_by(StaffAccess.at.desc(), StaffAccess.id.desc())
        .offset((number - 1) * per_page).limit(per_page)
        .options(selectinload(StaffAccess.subjects))))
    return Page(items, total, number, pages)


def each(session: Session, filters: Filters, batch: int = 500) -> Iterator[StaffAccess]:
    """Every matching access, newest first, read `batch` rows at a time (for the CSV)."""
    last_id: int | None = None
    while True:
        query = select(StaffAccess).where(StaffAccess.id.in_(_filtered(filters)))
        if last_id is not None:
            query = query.where(StaffAccess.id < last_id)
        rows = list(session.scalars(query.order_by(StaffAccess.id.desc()).limit(batch)
                                    .options(selectinload(StaffAccess.subjects))))
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id
        for row in rows:  # keep memory flat over a long log
            for subject in row.subjects:
                session.expunge(subject)
            session.expunge(row)


def staff_in_log(session: Session) -> list[tuple[int, str, str]]:
    """(user id, member number, name) of everyone in the log or on the staff now, for the
    filter; a deleted staff account keeps its member number."""
    names = {u.id: (u.member_no, u.display_name) for u in session.scalars(
        select(User).where(User.staff_role.is_not(None)))}
    for user_id, member_no in session.execute(
            select(StaffAccess.staff_user_id, StaffAccess.staff_member_no).distinct()):
        names.setdefault(user_id, (member_no, member_no))
    return sorted(((uid, no, name) for uid, (no, name) in names.items()),
                  key=lambda row: (row[2].lower(), row[0]))
