"""The developmental milestone checklist: what most children do by each age, and which ones
this child has reached.

Ticking a milestone writes an ordinary "milestone" diary entry (titled with the milestone's
words, `data["milestone_id"]` naming it), so it shows on the timeline with its date and can
carry photos; the checklist reads those entries back. Nothing else is stored.

Unticking deletes that entry, but never silently once the parent has put something of
their own in it (photos, a note, their own title, or any edit such as a new date):
`untick` then raises
`ConfirmUntick` until the caller passes the `fingerprint` of what the parent was shown
(`untick_preview`), or is asked to keep the entry and only untick (`keep_entry=True`).

The age is corrected for babies born before 37 weeks until 24 months chronological age, as
for growth and stages. Plain functions on a Session; never commits.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from diary import age as agemath
from diary import search
from diary.entries import EntryInput, create_entry, delete_entry
from diary.errors import N_, DiaryError, ValidationError
from diary.locales import reading_locale
from diary.milestones_data import ACT_EARLY_EN, ACT_EARLY_ZH, MILESTONES, SOURCE, SOURCE_ZH
from diary.models import Child, Entry, User

CHECKPOINTS = (2, 4, 6, 9, 12, 15, 18, 24, 30, 36, 48, 60)
DOMAINS = ("social", "language", "cognitive", "movement")

__all__ = ["CHECKPOINTS", "DOMAINS", "SOURCE", "SOURCE_ZH", "ACT_EARLY_EN", "ACT_EARLY_ZH",
           "Milestone", "Achieved", "Checklist", "all_milestones", "by_id", "is_known",
           "for_checkpoint", "source", "act_early", "checklist", "achieved", "tick", "untick",
           "TickedEntry", "UntickPreview", "ConfirmUntick", "untick_preview"]


@dataclass(frozen=True)
class Milestone:
    id: str
    month: int
    domain: str
    en: str
    zh: str

    def text(self, locale: str) -> str:
        """The words in `locale`: Chinese for any zh locale ("zh_CN", "zh_Hans_CN"), else
        English."""
        return self.zh if _is_zh(locale) else self.en


_ALL: tuple[Milestone, ...] = tuple(Milestone(*record) for record in MILESTONES)
_BY_ID: dict[str, Milestone] = {m.id: m for m in _ALL}


def all_milestones() -> tuple[Milestone, ...]:
    """Every milestone, by checkpoint, then domain as listed in DOMAINS."""
    return _ALL


def is_known(milestone_id: object) -> bool:
    return isinstance(milestone_id, str) and milestone_id in _BY_ID


def by_id(milestone_id: str) -> Milestone:
    try:
        return _BY_ID[milestone_id]
    except (KeyError, TypeError):
        raise ValidationError(N_("Unknown milestone."), "milestone_id") from None


def _is_zh(locale: str) -> bool:
    return reading_locale(locale) == "zh_CN"


def source(locale: str) -> str:
    """Where the checklist's ideas come from, and that it is not medical advice."""
    return SOURCE_ZH if _is_zh(locale) else SOURCE


def act_early(locale: str) -> str:
    """The nudge to talk to the doctor without waiting."""
    return ACT_EARLY_ZH if _is_zh(locale) else ACT_EARLY_EN


def for_checkpoint(month: int) -> list[Milestone]:
    """The milestones of one checkpoint month, grouped by domain (empty for other months)."""
    return [m for m in _ALL if m.month == month]


@dataclass
class Achieved:
    milestone_id: str
    entry_id: int
    occurred_at: datetime


@dataclass
class Checklist:
    age_months: int      # whole months of the age used
    corrected: bool      # True when the corrected age was used (preterm, under 24 months)
    current: int | None  # latest checkpoint <= age_months; None before 2 months
    upcoming: int | None  # next checkpoint > age_months; None after 60 months
    achieved: dict[str, Achieved] = field(default_factory=dict)

    def status(self, m: Milestone) -> str:
        """"achieved" (ticked), "expected" (most children do this by now) or "upcoming"."""
        if m.id in self.achieved:
            return "achieved"
        if self.current is not None and m.month <= self.current:
            return "expected"
        return "upcoming"


def _require_born(child: Child) -> date:
    if not child.is_born or child.birth_date is None:
        raise ValidationError(N_("Milestones start once your baby is born."))
    return child.birth_date


def _age_months(child: Child, birth_date: date, on_date: date) -> tuple[int, bool]:
    """Whole months of age on `on_date`, and whether it is the corrected age.

    The same rule as `age.effective_age_on` (corrected for preterm babies until 24 months
    chronological), except before the due date: there a preterm baby counts as 0 months
    corrected, not as its chronological age, so a baby born at 28 weeks is not shown the
    2-month milestones as "expected" while still weeks before its due date.
    """
    on_date = max(on_date, birth_date)
    corrected = agemath.corrected_age_on(birth_date, child.gestational_weeks_at_birth,
                                         child.gestational_days_at_birth, on_date)
    if corrected is not None:
        return max(corrected.months, 0), True
    return agemath.age_on(birth_date, on_date).months, False


def checklist(session: Session, child: Child, on_date: date) -> Checklist:
    """Where the child stands on `on_date` (a local date in the family's timezone)."""
    birth_date = _require_born(child)
    months, corrected = _age_months(child, birth_date, on_date)
    current = max((c for c in CHECKPOINTS if c <= months), default=None)
    upcoming = min((c for c in CHECKPOINTS if c > months), default=None)
    return Checklist(months, corrected, current, upcoming, achieved(session, child))


def _milestone_entries(session: Session, child: Child) -> list[Entry]:
    """The child's milestone entries that were made by ticking, oldest first.

    A child has few milestone entries, so `data["milestone_id"]` is read in Python rather
    than with dialect-specific JSON operators.
    """
    stmt = (select(Entry)
            .where(Entry.child_id == child.id, Entry.kind == "milestone")
            .order_by(Entry.occurred_at, Entry.id))
    return [e for e in session.scalars(stmt) if is_known((e.data or {}).get("milestone_id"))]


def achieved(session: Session, child: Child) -> dict[str, Achieved]:
    """Ticked milestones by id; if one was somehow ticked twice, the earliest tick counts."""
    result: dict[str, Achieved] = {}
    for entry in _milestone_entries(session, child):
        milestone_id = entry.data["milestone_id"]
        result.setdefault(milestone_id, Achieved(milestone_id, entry.id, entry.occurred_at))
    return result


def tick(session: Session, child: Child, author: User, milestone_id: str, when: datetime,
         locale: str) -> Entry:
    """Record that the child reached a milestone at `when` (timezone-aware): a new
    "milestone" diary entry titled with the milestone's words in `locale`."""
    birth_date = _require_born(child)
    milestone = by_id(milestone_id)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("when must be timezone-aware")
    if agemath.local_date(when, child.family.timezone) < birth_date:
        raise ValidationError(N_("The date cannot be before the birth date."), "occurred_at")
    if milestone.id in achieved(session, child):
        raise ValidationError(N_("Already ticked."), "milestone_id")
    entry = create_entry(session, child, author, EntryInput(
        kind="milestone", occurred_at=when, title=milestone.text(locale),
        data={"milestone_id": milestone.id}))
    # One instant for both stamps: any later save of the entry moves updated_at, which is
    # how `untick` knows the parent changed it (see TickedEntry.edited).
    entry.created_at = entry.updated_at = utcnow()
    session.flush()
    return entry


@dataclass(frozen=True)
class TickedEntry:
    """A diary entry a tick made, and what the parent has put in it since."""

    entry: Entry
    photo_count: int
    note: str
    title_edited: bool  # not the milestone's words any more (in either language)
    edited: bool        # saved through the entry's edit form since (a new date, say)

    @property
    def holds_parent_content(self) -> bool:
        return bool(self.photo_count or self.note or self.title_edited or self.edited)


@dataclass(frozen=True)
class UntickPreview:
    """What unticking a milestone would delete (normally one entry; a double tick from a
    race makes two)."""

    milestone: Milestone
    entries: list[TickedEntry]
    #: Names exactly what the parent was shown, taken when the preview was made: any change
    #: to the entries since (a photo another caregiver added, an edit) gives another value.
    fingerprint: str

    @property
    def needs_confirmation(self) -> bool:
        return any(t.holds_parent_content for t in self.entries)


def _fingerprint(entries: list[Entry]) -> str:
    parts = [(e.id, e.title, e.body, e.occurred_at.isoformat(), e.updated_at.isoformat(),
              sorted(p.id for p in e.photos)) for e in entries]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


class ConfirmUntick(DiaryError):
    """Unticking would delete what the parent added to the entry: ask them first."""

    def __init__(self, preview: UntickPreview) -> None:
        super().__init__(N_("This milestone's diary entry holds photos or words you added. "
                            "Please choose what to do with it."))
        self.preview = preview


def _ticked_entry(entry: Entry, milestone: Milestone) -> TickedEntry:
    return TickedEntry(
        entry=entry, photo_count=len(entry.photos), note=(entry.body or "").strip(),
        title_edited=(entry.title or "").strip() not in (milestone.en, milestone.zh),
        # A tick writes both stamps at one instant; every save of the entry's form sets
        # updated_at. (Entries ticked before that rule have stamps a moment apart: they
        # ask too, which errs on the safe side.)
        edited=entry.updated_at != entry.created_at)


def untick_preview(session: Session, child: Child, milestone_id: str) -> UntickPreview:
    """What unticking would delete; ValidationError if the milestone is not ticked."""
    milestone = by_id(milestone_id)
    entries = [e for e in _milestone_entries(session, child)
               if e.data["milestone_id"] == milestone.id]
    if not entries:
        raise ValidationError(N_("That milestone is not ticked."), "milestone_id")
    return UntickPreview(milestone, [_ticked_entry(e, milestone) for e in entries],
                         _fingerprint(entries))


def untick(session: Session, child: Child, milestone_id: str, *, keep_entry: bool = False,
           confirmed: str | None = None) -> list[str]:
    """Untick a milestone; returns photo storage keys to remove after commit.

    `keep_entry=True` keeps the diary entry as it is (it only stops counting as the tick).
    Otherwise the entry is deleted — at once when it is as the tick made it, and only with
    `confirmed` equal to the preview's `fingerprint` when the parent has added to it
    (`ConfirmUntick` otherwise, carrying the preview to show)."""
    preview = untick_preview(session, child, milestone_id)
    if keep_entry:
        for ticked in preview.entries:
            entry = ticked.entry
            entry.data = {k: v for k, v in (entry.data or {}).items() if k != "milestone_id"}
            entry.updated_at = utcnow()
            search.reindex(session, entry)
        return []
    if preview.needs_confirmation and confirmed != preview.fingerprint:
        raise ConfirmUntick(preview)
    keys: list[str] = []
    for ticked in preview.entries:  # normally one; a double tick from a race is cleared too
        keys += delete_entry(session, ticked.entry)
    return keys
