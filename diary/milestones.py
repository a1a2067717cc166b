"""The developmental milestone checklist: what most children do by each age, and which ones
this child has reached.

Ticking a milestone writes an ordinary "milestone" diary entry (titled with the milestone's
words, `data["milestone_id"]` naming it), so it shows on the timeline with its date and can
carry photos; the checklist reads those entries back. Nothing else is stored.

The age is corrected for babies born before 37 weeks until 24 months chronological age, as
for growth and stages. Plain functions on a Session; never commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from diary import age as agemath
from diary.entries import EntryInput, create_entry, delete_entry
from diary.errors import N_, ValidationError
from diary.milestones_data import (ACT_EARLY_EN, ACT_EARLY_ZH, MILESTONES, SOURCE,
                                   SOURCE_ZH)
from diary.models import Child, Entry, User
from diary.models.entries import EntryKind

CHECKPOINTS = (2, 4, 6, 9, 12, 15, 18, 24, 30, 36, 48, 60)
DOMAINS = ("social", "language", "cognitive", "movement")

__all__ = ["CHECKPOINTS", "DOMAINS", "SOURCE", "SOURCE_ZH", "ACT_EARLY_EN", "ACT_EARLY_ZH",
           "Milestone", "Achieved", "Checklist", "all_milestones", "by_id", "is_known",
           "for_checkpoint", "source", "act_early", "checklist", "achieved", "tick", "untick"]


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
    return (locale or "").lower().startswith("zh")


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
            .where(Entry.child_id == child.id, Entry.kind == EntryKind.MILESTONE.value)
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
    return create_entry(session, child, author, EntryInput(
        kind=EntryKind.MILESTONE.value, occurred_at=when, title=milestone.text(locale),
        data={"milestone_id": milestone.id}))


def untick(session: Session, child: Child, milestone_id: str) -> list[str]:
    """Delete the entry a tick made; returns photo storage keys to remove after commit."""
    milestone = by_id(milestone_id)
    entries = [e for e in _milestone_entries(session, child)
               if e.data["milestone_id"] == milestone.id]
    if not entries:
        raise ValidationError(N_("That milestone is not ticked."), "milestone_id")
    keys: list[str] = []
    for entry in entries:  # normally one; a double tick from a race is cleared too
        keys += delete_entry(session, entry)
    return keys
