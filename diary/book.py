"""The baby book: a keepsake of the timeline, one page per month of the child's life.

Quick logs (feeds, naps, nappies…) stay in the diary; the book keeps what a family would
print: photos, milestones, measurements and notes, grouped by the child's age in months
(and one page for the pregnancy).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from diary import age as agemath
from diary.entry_kinds import book_kinds
from diary.models import Child, Entry, Photo

PREGNANCY_PAGE = -1


@dataclass
class BookPage:
    month: int  # age in whole months; PREGNANCY_PAGE for before birth
    photos: list[tuple[Entry, Photo]] = field(default_factory=list)
    milestones: list[Entry] = field(default_factory=list)
    measurements: list[Entry] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.photos or self.milestones or self.measurements or self.notes)


@dataclass
class Book:
    child: Child
    cover: Photo | None
    pages: list[BookPage]


def build(session: Session, child: Child) -> Book:
    entries = list(session.scalars(
        select(Entry).where(Entry.child_id == child.id, Entry.kind.in_(book_kinds()))
        .order_by(Entry.occurred_at, Entry.id)
        .options(selectinload(Entry.photos), joinedload(Entry.measurement))))
    pages: dict[int, BookPage] = {}
    for entry in entries:
        month = _page_month(child, entry)
        page = pages.setdefault(month, BookPage(month))
        page.photos.extend((entry, photo) for photo in entry.photos)
        if entry.kind == "milestone":
            page.milestones.append(entry)
        elif entry.kind == "measurement" and entry.measurement is not None:
            page.measurements.append(entry)
        elif entry.body.strip() and entry.kind in ("note", "photo", "bump", "scan"):
            page.notes.append(entry)
    ordered = [pages[m] for m in sorted(pages)]
    return Book(child=child, cover=_cover(ordered), pages=ordered)


def _page_month(child: Child, entry: Entry) -> int:
    on = agemath.local_date(entry.occurred_at, child.family.timezone)
    if child.birth_date is None or on < child.birth_date:
        return PREGNANCY_PAGE
    return agemath.age_on(child.birth_date, on).months


def _cover(pages: list[BookPage]) -> Photo | None:
    """The most recent photo taken after birth, else the latest bump photo."""
    born = [photo for page in pages if page.month >= 0 for _, photo in page.photos]
    if born:
        return born[-1]
    before = [photo for page in pages for _, photo in page.photos]
    return before[-1] if before else None
