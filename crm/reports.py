"""Saved pivot reports and the weekly report email.

Analysts save a pivot (`crm.pivot`) under a name and tick "weekly" on the ones that should
reach every analyst by email. `queue_weekly(session, now)` — the scheduler's daily job —
records one `ReportMailing` per (report, analyst, ISO week) with INSERT … ON CONFLICT DO
NOTHING and queues an account email (`diary.account_mail`, kind "crm_report") only for the
rows it inserted: however often the job runs, and however many run at once, each analyst
gets each weekly report once a week. The email is rendered when it is sent (the web layer's
account mail renderers), with the numbers of that moment.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import pivot
from crm.models import ReportMailing, SavedReport
from db import dialect_insert
from diary import account_mail
from diary.errors import N_, NotFound, ValidationError
from diary.models import User

RECIPIENT_ROLES = ("analyst",)


def iso_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def save(session: Session, owner: User, name: str, definition: pivot.Definition,
         now: datetime) -> SavedReport:
    name = " ".join(name.split())
    if not 0 < len(name) <= 120:
        raise ValidationError(N_("Give the report a name (up to 120 characters)."))
    report = SavedReport(name=name, definition=definition.to_dict(), owner_id=owner.id,
                         weekly=False, created_at=now)
    session.add(report)
    session.flush()
    return report


def saved(session: Session) -> list[SavedReport]:
    return list(session.scalars(select(SavedReport).order_by(SavedReport.name,
                                                             SavedReport.id)))


def get(session: Session, report_id: int) -> SavedReport:
    report = session.get(SavedReport, report_id)
    if report is None:
        raise NotFound(N_("That report does not exist (any more)."))
    return report


def definition_of(report: SavedReport) -> pivot.Definition:
    return pivot.parse(report.definition)


def delete(session: Session, report_id: int) -> None:
    session.delete(get(session, report_id))
    session.flush()


def set_weekly(session: Session, report_id: int, weekly: bool) -> SavedReport:
    report = get(session, report_id)
    report.weekly = weekly
    session.flush()
    return report


@dataclass
class WeeklyStats:
    week: str
    queued: int = 0


def queue_weekly(session: Session, now: datetime) -> WeeklyStats:
    """Queue this ISO week's report email for every (weekly report, analyst) not yet had."""
    stats = WeeklyStats(iso_week(now))
    reports = list(session.scalars(select(SavedReport).where(SavedReport.weekly.is_(True))
                                   .order_by(SavedReport.id)))
    analysts = list(session.scalars(select(User).where(User.staff_role.in_(RECIPIENT_ROLES),
                                                       User.is_active.is_(True))
                                    .order_by(User.id)))
    if not reports or not analysts:
        return stats
    rows = [{"report_id": r.id, "user_id": a.id, "week": stats.week, "created_at": now}
            for r in reports for a in analysts]
    won = session.execute(
        dialect_insert(session, ReportMailing).values(rows)
        .on_conflict_do_nothing(index_elements=["report_id", "user_id", "week"])
        .returning(ReportMailing.report_id, ReportMailing.user_id)).all()
    people = {a.id: a for a in analysts}
    for report_id, user_id in won:
        analyst = people[user_id]
        account_mail.queue(session, account_mail.CRM_REPORT, analyst.email, user=analyst,
                           locale=analyst.locale, report_id=report_id, week=stats.week)
        stats.queued += 1
    return stats
