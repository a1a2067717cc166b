"""Earning points: `award` (one rule, one reference, once), the diary's own awards (an entry,
a streak) and taking them back when the entry is deleted (giving them back when staff
restore a hidden club post or review); the balance and the history.

Every award locks the person's balance row first (FOR UPDATE on PostgreSQL; SQLite has one
writer), so the daily cap is counted and the row written without another award of the same
person slipping in between. Callers own the transaction, as everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import dialect_insert, table_of
from diary import age as agemath
from diary.families import membership_in
from diary.models import Child, Entry, Family, Membership, User
from rewards import rules
from rewards.models import PointsBalance, PointsEntry

HISTORY_LIMIT = 100
#: The ledger's references beyond an award's own: what takes it back ("<ref>:back"), and
#: what a restore gives back after a reversal ("<ref>:again:<reversal id>").
BACK = ":back"
AGAIN = ":again:"


def root_ref(ref: str) -> str:
    """The thing a ledger row is about: "club_post:40" for the award, its ":back", and its
    ":again:<id>" (and that one's ":back")."""
    return ref.split(AGAIN, 1)[0].removesuffix(BACK)


def _lock_balance(session: Session, user_id: int, now: datetime) -> int:
    """Make sure the person has a balance row, lock it for this transaction, return it."""
    session.execute(dialect_insert(session, table_of(PointsBalance))
                    .values(user_id=user_id, balance=0, updated_at=now)
                    .on_conflict_do_nothing(index_elements=["user_id"]))
    value = session.scalar(select(PointsBalance.balance)
                           .where(PointsBalance.user_id == user_id)
                           .with_for_update()
                           .execution_options(populate_existing=True))
    return int(value or 0)


def _add_to_balance(session: Session, user_id: int, points: int, now: datetime) -> None:
    session.execute(update(PointsBalance).where(PointsBalance.user_id == user_id)
                    .values(balance=PointsBalance.balance + points, updated_at=now)
                    .execution_options(synchronize_session=False))


def home_timezone(session: Session, user: User) -> str:
    """The zone a person's day is counted in when no family is named: their first family's
    (the one they joined first), else their own setting."""
    zone = session.scalar(select(Family.timezone).join(
        Membership, Membership.family_id == Family.id).where(Membership.user_id == user.id)
        .order_by(Membership.id).limit(1))
    return zone or user.timezone or "UTC"


def _write(session: Session, row: PointsEntry) -> bool:
    """Insert a ledger row; False when its (user, rule, ref) is already there."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def award(session: Session, user: User, rule: str, ref: str, *, now: datetime,
          family: Family | None = None) -> PointsEntry | None:
    """Give `user` the points of `rule` (a name in `rewards.rules.RULES`) for `ref` — what
    they are for, e.g. "survey:12" or "club_post:40" — at most once.

    `family` is where it happened (required for the diary's rules): the day is counted in
    its time zone, and only a caregiver who can write there earns anything. Without it, the
    person's first family's zone counts. Returns the new ledger row, or None when nothing
    was given: already given for `ref`, the rule's daily cap reached, a viewer, staff, or a
    closed account. `now` must be timezone-aware (`clock.utcnow()`).
    """
    found = rules.RULES.get(rule)
    if found is None:
        raise ValueError(f"unknown rule {rule!r}")
    if len(ref) > 60:
        raise ValueError("ref too long")
    if user.staff_role is not None or not user.is_active:
        return None
    if family is not None:
        membership = membership_in(session, user, family.id)
        if membership is None or not membership.can_write:
            return None
        zone = family.timezone
    elif found.in_family:
        raise ValueError(f"rule {rule!r} needs the family it happened in")
    else:
        zone = home_timezone(session, user)
    day = agemath.local_date(now, zone)
    _lock_balance(session, user.id, now)
    if session.scalar(select(PointsEntry.id).where(
            PointsEntry.user_id == user.id, PointsEntry.rule == rule,
            PointsEntry.ref == ref)) is not None:
        return None
    # Counted in the database: every award of the day, including those taken back since
    # (deleting and writing an entry again does not open the cap again).
    paid_today = session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.user_id == user.id, PointsEntry.rule == rule,
        PointsEntry.local_day == day, PointsEntry.points > 0,
        PointsEntry.reverses_id.is_(None)))  # a restore gives back, it is no new award
    if (paid_today or 0) >= found.daily_cap:
        return None
    row = PointsEntry(user_id=user.id, rule=rule, points=found.points, ref=ref,
                      local_day=day, created_at=now)
    if not _write(session, row):
        return None
    _add_to_balance(session, user.id, found.points, now)
    return row


def reverse(session: Session, awarded: PointsEntry, now: datetime) -> PointsEntry | None:
    """Take an award back: a negative row referencing it (once). Points already spent cannot
    be taken from a sample on its way: the balance goes to zero at the lowest."""
    if awarded.points <= 0:
        return None
    balance = _lock_balance(session, awarded.user_id, now)
    if session.scalar(select(PointsEntry.id).where(
            PointsEntry.reverses_id == awarded.id)) is not None:
        return None
    taken = min(awarded.points, balance)
    row = PointsEntry(user_id=awarded.user_id, rule=awarded.rule, points=-taken,
                      ref=f"{awarded.ref}{BACK}", local_day=awarded.local_day,
                      created_at=now, reverses_id=awarded.id)
    if not _write(session, row):
        return None
    _add_to_balance(session, awarded.user_id, -taken, now)
    return row


def _given_for(ref: str) -> ColumnElement[bool]:
    """The positive rows for `ref`: its award, and what a restore gave back after a
    reversal ("<ref>:again:<reversal id>")."""
    return and_(PointsEntry.points > 0,
                or_(PointsEntry.ref == ref,
                    PointsEntry.ref.startswith(f"{ref}{AGAIN}", autoescape=True)))


def reverse_ref(session: Session, ref: str, now: datetime) -> list[PointsEntry]:
    """Take back every award made for `ref` (to whomever), e.g. a deleted entry's, and what
    a restore gave back since (hidden, restored, hidden again: nothing is left over)."""
    awards = list(session.scalars(select(PointsEntry).where(_given_for(ref))
                                  .order_by(PointsEntry.id)))
    return [row for row in (reverse(session, a, now) for a in awards) if row is not None]


def restore_ref(session: Session, ref: str, now: datetime) -> list[PointsEntry]:
    """Give back what was taken for `ref` when it comes back (a hidden club post or review
    restored by staff): each reversal not yet made good, once, as much as it took. Nothing
    for a `ref` that never earned or was never taken back."""
    given = select(PointsEntry.id).where(_given_for(ref)).scalar_subquery()
    reversals = list(session.scalars(select(PointsEntry).where(
        PointsEntry.points < 0, PointsEntry.reverses_id.in_(given)).order_by(PointsEntry.id)))
    restored = []
    for taken in reversals:
        _lock_balance(session, taken.user_id, now)
        if session.scalar(select(PointsEntry.id).where(
                PointsEntry.reverses_id == taken.id)) is not None:
            continue  # made good already
        row = PointsEntry(user_id=taken.user_id, rule=taken.rule, points=-taken.points,
                          ref=f"{ref}{AGAIN}{taken.id}", local_day=taken.local_day,
                          created_at=now, reverses_id=taken.id)
        if _write(session, row):
            _add_to_balance(session, taken.user_id, row.points, now)
            restored.append(row)
    return restored


# --- the diary's awards ----------------------------------------------------------------------

def entry_ref(entry: Entry) -> str:
    """An entry's reference: its id and when it was written (SQLite may give a deleted
    entry's id to the next one; that one is a different entry)."""
    return f"entry:{entry.id}@{int(entry.created_at.timestamp())}"


def _streak_days(session: Session, user: User, family: Family, now: datetime,
                 longest: int) -> set[date]:
    since = now - timedelta(days=longest + 2)
    written = session.scalars(select(Entry.created_at).join(Child, Child.id == Entry.child_id)
                              .where(Entry.author_id == user.id,
                                     Child.family_id == family.id,
                                     Entry.created_at >= since))
    return {agemath.local_date(at, family.timezone) for at in written}


def run_length(days: set[date], today: date) -> int:
    """How many consecutive days up to and including `today` are in `days`."""
    length = 0
    while today - timedelta(days=length) in days:
        length += 1
    return length


def award_for_entry(session: Session, user: User, entry: Entry, now: datetime
                    ) -> list[PointsEntry]:
    """The points a new diary entry earns its author: the rule of its kind (milestone,
    measurement, else diary_entry), and a streak when it completes one — entries written
    on exactly 3 (or 7) consecutive days in the family's time zone. Both reference the
    entry, so deleting it takes both back."""
    family = entry.child.family
    session.flush()
    ref = entry_ref(entry)
    given = [award(session, user, rules.ENTRY_RULES.get(entry.kind, "diary_entry"), ref,
                   now=now, family=family)]
    longest = max(rules.STREAK_LENGTHS)
    run = run_length(_streak_days(session, user, family, now, longest),
                     agemath.local_date(now, family.timezone))
    if run in rules.STREAK_LENGTHS:
        given.append(award(session, user, f"streak_{run}", ref, now=now, family=family))
    return [row for row in given if row is not None]


def reverse_for_entry(session: Session, entry: Entry, now: datetime) -> list[PointsEntry]:
    """Before an entry is deleted: take back what it earned (its kind's award, a streak)."""
    return reverse_ref(session, entry_ref(entry), now)


# --- reading ---------------------------------------------------------------------------------

def balance(session: Session, user: User) -> int:
    value = session.scalar(select(PointsBalance.balance).where(
        PointsBalance.user_id == user.id))
    return int(value or 0)


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    rule: str
    label: str          # N_ term
    points: int
    day: date           # the day it counts for, in the family's zone


@dataclass(frozen=True)
class HistoryLine:
    """The rows of one rule, one day and one direction (given or taken back), as the page
    shows them: a parent logging a newborn's day earns "Diary entry +2" a dozen times."""
    day: date
    at: datetime        # the newest row's time
    rule: str
    label: str          # N_ term
    points: int         # their sum
    count: int


def history(session: Session, user: User, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The person's ledger, newest first."""
    rows = list(session.scalars(select(PointsEntry).where(PointsEntry.user_id == user.id)
                                .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
                                .limit(limit)))
    return [HistoryRow(r.created_at, r.rule, rules.label(r.rule), r.points, r.local_day)
            for r in rows]


def history_lines(session: Session, user: User, lines: int,
                  read: int = HISTORY_LIMIT) -> list[HistoryLine]:
    """The newest `lines` lines of the ledger, each folding a day's rows of one rule and
    direction, newest first (in the order of each line's newest row). Reads the newest `read`
    rows; when there are that many, the oldest day read may be cut, so it is left out."""
    rows = history(session, user, limit=read)
    folded: list[HistoryLine] = []
    this_day: dict[tuple[str, bool], int] = {}  # the lines of the day being read, by key
    for row in rows:
        if folded and folded[-1].day != row.day:
            this_day = {}
        key = (row.rule, row.points > 0)
        if key in this_day:
            line = folded[this_day[key]]
            folded[this_day[key]] = replace(line, points=line.points + row.points,
                                         count=line.count + 1)
        else:
            this_day[key] = len(folded)
            folded.append(HistoryLine(row.day, row.at, row.rule, row.label, row.points, 1))
    if len(rows) == read and rows:
        folded = [line for line in folded if line.day != rows[-1].day]
    return folded[:lines]


def ledger_sum(session: Session, user: User) -> int:
    """The balance recomputed from the ledger (it always equals `balance`)."""
    return int(session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.user_id == user.id)) or 0)


__all__ = ["award", "award_for_entry", "balance", "entry_ref", "history", "history_lines",
           "home_timezone", "ledger_sum", "reverse", "reverse_for_entry", "reverse_ref"]
