"""The per-child record of vaccinations and check-ups given.

A row comes from ticking off a reminder (the reminder's content key is kept, never its title:
the diary does not read content, the web layer joins the titles) or from a name typed by hand.
A reminder is ticked once per child (a unique key); ticking it again changes the date.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import csvsafe
from clock import today_in
from db import core_rows
from diary.errors import N_, NotFound, ValidationError
from diary.models import Child, User, Vaccination

#: What the record holds (the content vocabulary's reminder categories that are ticked off).
RECORD_CATEGORIES = ("vaccination", "checkup")
#: A content key (slug): what a reminder's key may look like.
_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,79}", re.ASCII)
CSV_COLUMNS = ["child", "category", "name", "reminder", "given_on", "note"]


def check_given_on(child: Child, given_on: date | None) -> date:
    """A date given: not in the future (the family's today), not before the birth."""
    if given_on is None:
        raise ValidationError(N_("Please enter the date."), "given_on")
    if given_on > today_in(child.family.timezone):
        raise ValidationError(N_("The date cannot be in the future."), "given_on")
    if child.birth_date is None:
        raise ValidationError(N_("This kind of entry starts once the baby is born."), "given_on")
    if given_on < child.birth_date:
        raise ValidationError(N_("The date cannot be before the birth date."), "given_on")
    return given_on


def _check_category(category: str) -> str:
    if category not in RECORD_CATEGORIES:
        raise ValidationError(N_("Please choose vaccination or check-up."), "category")
    return category


def tick_reminder(session: Session, child: Child, user: User, reminder_key: str,
                  category: str, given_on: date | None) -> Vaccination:
    """Mark a reminder done on `given_on`; again on the same reminder: the new date."""
    if not _KEY.fullmatch(reminder_key or ""):
        raise NotFound()
    _check_category(category)
    given_on = check_given_on(child, given_on)
    row = session.scalars(select(Vaccination).where(
        Vaccination.child_id == child.id, Vaccination.reminder_key == reminder_key)).first()
    if row is None:
        row = Vaccination(child_id=child.id, category=category, reminder_key=reminder_key,
                          given_on=given_on, recorded_by_id=user.id)
        try:
            with session.begin_nested():  # two caregivers ticking at once: one row
                session.add(row)
        except IntegrityError:
            row = session.scalars(select(Vaccination).where(
                Vaccination.child_id == child.id,
                Vaccination.reminder_key == reminder_key)).one()
    row.given_on = given_on
    return row


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(N_("Please enter the name."), "name")
    if len(name) > 120:
        raise ValidationError(N_("Please keep the name under 120 characters."), "name")
    return name


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError(N_("Please keep the note under 200 characters."), "note")
    return note


def add(session: Session, child: Child, user: User, category: str, name: str,
        given_on: date | None, note: str = "") -> Vaccination:
    """A vaccination or check-up entered by hand."""
    row = Vaccination(child_id=child.id, category=_check_category(category),
                      name=_clean_name(name), note=_clean_note(note),
                      given_on=check_given_on(child, given_on), recorded_by_id=user.id)
    session.add(row)
    session.flush()
    return row


def record_of(session: Session, child: Child, record_id: int) -> Vaccination:
    """One row of the child's record; NotFound for another child's (or no) row."""
    row = session.get(Vaccination, record_id)
    if row is None or row.child_id != child.id:
        raise NotFound()
    return row


def update(session: Session, row: Vaccination, child: Child, category: str, name: str,
           given_on: date | None, note: str = "") -> Vaccination:
    """Correct a row: its date and note; a row entered by hand also its kind and name. A
    ticked reminder keeps its kind and takes its name from the reminder unless one is typed
    (a blank name goes back to the reminder's)."""
    if row.child_id != child.id:
        raise NotFound()
    if row.reminder_key is None:
        category, name = _check_category(category), _clean_name(name)
    else:
        category, name = row.category, _clean_name(name) if (name or "").strip() else ""
    given_on, note = check_given_on(child, given_on), _clean_note(note)
    # Everything checked first: a refused correction leaves the row as it was.
    row.category, row.name, row.given_on, row.note = category, name, given_on, note
    session.flush()
    return row


def remove(session: Session, child: Child, record_id: int) -> None:
    session.delete(record_of(session, child, record_id))
    session.flush()


def records(session: Session, child: Child) -> list[Vaccination]:
    """The child's record, newest first."""
    return list(session.scalars(select(Vaccination).where(Vaccination.child_id == child.id)
                                .order_by(Vaccination.given_on.desc(), Vaccination.id.desc())))


_TICKED = select(Vaccination.reminder_key, Vaccination.given_on).where(
    Vaccination.child_id == bindparam("child_id"), Vaccination.reminder_key.is_not(None))


def ticked(session: Session, child: Child) -> dict[str, date]:
    """Reminder key → the date it was ticked off, for the child's reminders (the child page
    asks: the statement is built once)."""
    rows = core_rows(session, _TICKED, {"child_id": child.id})
    return {row.reminder_key: row.given_on for row in rows if row.reminder_key is not None}


def write_csv(stream: Any, child: Child, rows: list[Vaccination],
              titles: dict[str, str]) -> None:
    """The record as a spreadsheet-safe CSV; `titles` names the ticked reminders (the web
    layer reads them from content)."""
    out = csvsafe.writer(stream, CSV_COLUMNS)
    for row in rows:
        out.writerow({"child": child.name, "category": row.category,
                      "name": row.name or titles.get(row.reminder_key or "", ""),
                      "reminder": row.reminder_key or "", "given_on": row.given_on.isoformat(),
                      "note": row.note})


def export_rows(session: Session, child_ids: list[int]) -> list[dict[str, Any]]:
    """Every record of these children, for the account data export."""
    if not child_ids:
        return []
    rows = session.scalars(select(Vaccination).where(Vaccination.child_id.in_(child_ids))
                           .order_by(Vaccination.id))
    return [{"child_id": r.child_id, "category": r.category, "reminder_key": r.reminder_key,
             "name": r.name, "given_on": r.given_on.isoformat(), "note": r.note,
             "created_at": r.created_at.isoformat()} for r in rows]
