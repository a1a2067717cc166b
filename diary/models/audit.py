"""The staff access log: every time a staff member reads a customer's data.

Append-only. No foreign keys on purpose: deleting a parent (or a staff account) must neither
delete nor change what was recorded, so the people are kept by id *and* by the member number
they had then. The ORM refuses updates and deletes of these rows, one by one or in bulk.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime
from diary.errors import N_, DiaryError


class StaffAccess(Base):
    """One read: who, when, what kind of page, by which route, from where."""

    __tablename__ = "staff_accesses"
    __table_args__ = (Index("ix_staff_accesses_staff_at", "staff_user_id", "at"),
                      Index("ix_staff_accesses_what_at", "what", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int] = mapped_column(Integer)
    staff_member_no: Mapped[str] = mapped_column(String(12))
    staff_role: Mapped[str] = mapped_column(String(16))
    #: What was seen: one of `diary.staff_audit.WHAT`.
    what: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    #: The URL rule (`/studio/families/members/<int:user_id>`) and the path without its query.
    route: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(300))
    #: How a look-up searched: "member_no" or "email"; the term only for member numbers (an
    #: email address that someone typed is never stored).
    search_kind: Mapped[str | None] = mapped_column(String(16))
    search_term: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))

    subjects: Mapped[list[StaffAccessSubject]] = relationship(
        back_populates="access", order_by="StaffAccessSubject.id")


class StaffAccessSubject(Base):
    """A customer (a person or a whole family) whose data one access showed."""

    __tablename__ = "staff_access_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_id: Mapped[int] = mapped_column(ForeignKey("staff_accesses.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The member number as it was then (rows outlive deleted accounts).
    member_no: Mapped[str | None] = mapped_column(String(12), index=True)
    family_id: Mapped[int | None] = mapped_column(Integer, index=True)

    access: Mapped[StaffAccess] = relationship(back_populates="subjects")


class AppendOnly(DiaryError):
    """Something tried to change or delete the access log."""

    def __init__(self) -> None:
        super().__init__(N_("The staff access log cannot be changed or deleted."))


@event.listens_for(StaffAccess, "before_update")
@event.listens_for(StaffAccess, "before_delete")
@event.listens_for(StaffAccessSubject, "before_update")
@event.listens_for(StaffAccessSubject, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, _target: Any) -> None:
    raise AppendOnly()


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and \
            state.bind_mapper.class_ in (StaffAccess, StaffAccessSubject):
        raise AppendOnly()
