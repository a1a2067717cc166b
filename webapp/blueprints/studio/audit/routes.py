"""The staff access log: who on the staff read which customer's data (admins only).

Admins search it (staff member, customer member number, dates in their own time zone, kind of
page) and download it as CSV (formula-safe, streamed). Other staff get 403 and parents 404.
There is no page that changes or deletes the log, and reading it is recorded too.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_babel import gettext
from flask_login import current_user

import csvsafe
from clock import utcnow
from diary import staff_audit
from diary.models import StaffAccess
from webapp import audit
from webapp.blueprints.studio.audit.forms import (
    SEARCH_NAMES,
    STAFF_ROLE_NAMES,
    WHAT_NAMES,
    AuditFilterForm,
)
from webapp.database import get_session
from webapp.security import staff_required

bp = Blueprint("audit", __name__)

CSV_COLUMNS = ["at_utc", "staff_member_no", "staff_role", "what", "method", "route", "path",
               "search_kind", "search_term", "customer_member_nos", "customer_user_ids",
               "family_ids", "request_id", "ip"]
CSV_CHUNK = 64 * 1024


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(WHAT_NAMES=WHAT_NAMES, SEARCH_NAMES=SEARCH_NAMES,
                STAFF_ROLE_NAMES=STAFF_ROLE_NAMES)


def _form(staff: list[tuple[int, str, str]]
          ) -> tuple[AuditFilterForm, staff_audit.Filters | None]:
    """The filters from the query string; None when they are not valid."""
    form = AuditFilterForm(formdata=request.args)
    form.staff.choices = [("", gettext("Anyone"))] + [
        (str(uid), f"{name} ({member_no})") for uid, member_no, name in staff]
    if not form.validate():
        return form, None
    zone = ZoneInfo(current_user.timezone)

    def start_of(day: Any) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC"))

    return form, staff_audit.Filters(
        staff_user_id=int(form.staff.data) if form.staff.data else None,
        member_no=form.member.data or None, what=form.what.data or None,
        since=start_of(form.since.data) if form.since.data else None,
        until=start_of(form.until.data + timedelta(days=1)) if form.until.data else None)


def _args(form: AuditFilterForm) -> dict[str, str]:
    values = {"staff": form.staff.data, "member": form.member.data, "what": form.what.data,
              "since": form.since.data.isoformat() if form.since.data else None,
              "until": form.until.data.isoformat() if form.until.data else None}
    return {k: v for k, v in values.items() if v}


@bp.route("")
@staff_required("admin")
def index() -> Any:
    staff = staff_audit.staff_in_log(get_session())
    form, filters = _form(staff)
    if filters is None:
        return render_template("studio/audit/index.html", form=form, page=None, args={}), 400
    page = staff_audit.search(get_session(), filters,
                              request.args.get("page", 1, type=int) or 1)
    audit.record_read(staff_audit.AUDIT_LOG, kind="member_no" if filters.member_no else None,
                      term=filters.member_no)
    args = _args(form)

    def page_url(number: int) -> str:
        return url_for("studio.audit.index", **args, page=number)

    return render_template("studio/audit/index.html", form=form, page=page, args=args,
                           page_url=page_url,
                           staff_names={uid: name for uid, _, name in staff})


def _csv_row(access: StaffAccess) -> dict[str, Any]:
    people = [s for s in access.subjects if s.user_id is not None or s.member_no]
    return {
        "at_utc": access.at.isoformat(), "staff_member_no": access.staff_member_no,
        "staff_role": access.staff_role, "what": access.what, "method": access.method,
        "route": access.route, "path": access.path, "search_kind": access.search_kind,
        "search_term": access.search_term,
        "customer_member_nos": " ".join(s.member_no or "" for s in people),
        "customer_user_ids": " ".join(str(s.user_id) for s in people if s.user_id is not None),
        "family_ids": " ".join(str(s.family_id) for s in access.subjects
                               if s.family_id is not None),
        "request_id": access.request_id, "ip": access.ip,
    }


@bp.route("/export.csv")
@staff_required("admin")
def export() -> Any:
    form, filters = _form(staff_audit.staff_in_log(get_session()))
    if filters is None:
        abort(400)
    audit.record_read(staff_audit.AUDIT_EXPORT, kind="member_no" if filters.member_no else None,
                      term=filters.member_no)

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        out = csvsafe.writer(buffer, CSV_COLUMNS)
        for access in staff_audit.each(get_session(), filters):
            out.writerow(_csv_row(access))
            if buffer.tell() >= CSV_CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"staff-access-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
