"""The CRM's analysis pages for analysts (`/studio/crm/…`): cohorts and their retention, the
churn-risk list with its win-back button, and how journeys and campaigns are answered.

Cohorts and response: analysts (and admins). The churn-risk list and its button: analysts and
marketers (the list names customers, so every view is recorded in the staff access log).
Other staff 403, parents 404. The pages read through `reports_session()`: the reports
database (a read replica, REPORTS_DATABASE_URL) when one is set, else the main one; the
win-back button writes to the main database.
"""
from __future__ import annotations

import io
import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

import csvsafe
from clock import utcnow
from crm import churn, cohorts, pivot, reports, response
from crm.rfm import CURRENCY
from crm.vocabulary import CAMPAIGN_LABELS, GROUP_LABELS, TIER_LABELS
from diary import staff_audit
from diary.accounts import users_by_id
from diary.errors import DiaryError, ValidationError
from journeys import campaigns
from webapp import audit
from webapp.blueprints.studio.crm_analysis.forms import (
    ChurnFilterForm,
    ChurnForm,
    SaveReportForm,
    WeeklyForm,
)
from webapp.database import get_session, reports_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.i18n import translate_error
from webapp.security import staff_required

bp = Blueprint("crm_analysis", __name__)

ANALYSTS = ("analyst",)  # admins pass every check
CHURN_ROLES = ("analyst", "marketer")
PAGE_SIZE = 50
WIN_BACK = "we_miss_you"


@bp.context_processor
def _words() -> dict[str, Any]:
    return dict(TIER_LABELS=TIER_LABELS, GROUP_LABELS=GROUP_LABELS,
                CAMPAIGN_LABELS=CAMPAIGN_LABELS, CURRENCY=CURRENCY,
                SOURCES=pivot.SOURCES, DIMENSIONS=pivot.DIMENSIONS, MEASURES=pivot.MEASURES,
                MONEY_MEASURES=pivot.MONEY_MEASURES, dimensions_of=pivot.dimensions_of)


def _page(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) <= 6 else 1


@bp.route("/cohorts")
@staff_required(*ANALYSTS)
def cohorts_page() -> Any:
    found = cohorts.retention(reports_session(), utcnow())
    return render_template("studio/crm/cohorts.html", cohorts=found,
                           average=cohorts.average_retention(found),
                           width=max((len(c.active) for c in found), default=0))


def _filters() -> tuple[ChurnFilterForm, churn.Criteria]:
    form = ChurnFilterForm(formdata=request.args if request.args else None)
    if request.args and form.validate():
        return form, form.criteria()
    return form, churn.Criteria()


@bp.route("/churn")
@staff_required(*CHURN_ROLES)
def churn_page() -> Any:
    form, criteria = _filters()
    number = _page(request.args.get("page"))
    found = churn.churn_list(reports_session(), utcnow(), criteria, number, PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    if number > pages:
        number = pages
        found = churn.churn_list(reports_session(), utcnow(), criteria, number, PAGE_SIZE)
    people = users_by_id(get_session(), {r.user_id for r in found.rows})
    audit.record_read(staff_audit.CRM_CHURN, users=list(people.values()))
    send = ChurnForm(formdata=None, max_p_alive=criteria.max_p_alive,
                     inactive_days=criteria.inactive_days, match=criteria.match,
                     sort=criteria.sort)
    args = {"max_p_alive": f"{criteria.max_p_alive:g}", "inactive_days": criteria.inactive_days,
            "match": criteria.match, "sort": criteria.sort}

    def page_url(n: int) -> str:
        return url_for("studio.crm_analysis.churn_page", **args, page=n if n > 1 else None)

    return render_template("studio/crm/churn.html", form=form, send=send, rows=found.rows,
                           total=found.total, number=number, pages=pages, page_url=page_url,
                           criteria=criteria)


@bp.route("/churn/win-back", methods=["POST"])
@staff_required(*CHURN_ROLES)
def win_back() -> Any:
    form = ChurnForm()
    if not form.validate_on_submit():
        abort(400)
    criteria = form.criteria()
    now = utcnow()
    with transaction() as session:
        ids = churn.churn_ids(session, now, criteria)
        stats = campaigns.win_back(session, ids, now)
    sent = stats.recorded - stats.held_out
    if stats.recorded:
        flash(ngettext("“We miss you” went to %(num)d customer; %(held)d held out for "
                       "measuring its lift.",
                       "“We miss you” went to %(num)d customers; %(held)d held out for "
                       "measuring its lift.", sent, held=stats.held_out), "success")
    else:
        flash(gettext("Nobody new on this list: everyone on it already had “We miss you” "
                      "for this absence."), "info")
    return redirect(url_for("studio.crm_analysis.churn_page",
                            max_p_alive=f"{criteria.max_p_alive:g}",
                            inactive_days=criteria.inactive_days, match=criteria.match,
                            sort=criteria.sort), 303)


@bp.route("/response")
@staff_required(*ANALYSTS)
def response_page() -> Any:
    session = reports_session()
    return render_template("studio/crm/response.html",
                           campaigns=response.by_campaign(session),
                           stages=response.by_journey_stage(session),
                           unsubscribe_days=response.UNSUBSCRIBE_DAYS)


# --- pivot reports ---------------------------------------------------------------------------

DEFAULT_REPORT = {"source": "orders", "rows": "month", "columns": "tier",
                  "measure": "sum_amount"}
FILTER_SLOTS = 2


def _asked() -> dict[str, Any]:
    """The definition the query string asks for (names only; `pivot.parse` checks them)."""
    args = request.args
    if not args.get("source"):
        return dict(DEFAULT_REPORT, filters={})
    filters = {}
    for n in range(1, FILTER_SLOTS + 1):
        name, value = args.get(f"filter{n}"), (args.get(f"value{n}") or "").strip()
        if name and value:
            filters[name] = value
    return {"source": args.get("source"), "rows": args.get("rows"),
            "columns": args.get("columns") or None, "measure": args.get("measure"),
            "filters": filters}


def report_args(definition: pivot.Definition) -> dict[str, Any]:
    """The query string that shows `definition` (links of saved reports, the CSV link)."""
    out: dict[str, Any] = {"source": definition.source, "rows": definition.rows,
                           "columns": definition.columns or "", "measure": definition.measure}
    for n, (name, value) in enumerate(definition.filters, start=1):
        out[f"filter{n}"], out[f"value{n}"] = name, value
    return out


@bp.route("/reports")
@staff_required(*ANALYSTS)
def reports_page() -> Any:
    asked = _asked()
    error = result = definition = None
    try:
        definition = pivot.parse(asked)
        result = pivot.run(reports_session(), definition)
    except ValidationError as problem:
        error = translate_error(problem)
    session = get_session()
    saved = [(r, _parsed(r)) for r in reports.saved(session)]
    save_form = SaveReportForm(formdata=None, definition=json.dumps(definition.to_dict())
                               if definition else "")
    return render_template("studio/crm/reports.html", asked=asked, error=error, result=result,
                           definition=definition, saved=saved, save_form=save_form,
                           confirm=ConfirmForm(), weekly_form=WeeklyForm(),
                           report_args=report_args, filter_slots=FILTER_SLOTS)


def _parsed(report: Any) -> pivot.Definition | None:
    try:
        return reports.definition_of(report)
    except ValidationError:
        return None


@bp.route("/reports/export.csv")
@staff_required(*ANALYSTS)
def reports_export() -> Any:
    try:
        definition = pivot.parse(_asked())
    except ValidationError:
        abort(400)
    header, records = pivot.as_records(pivot.run(reports_session(), definition))
    stream = io.StringIO()
    csvsafe.writer(stream, header).writerows(records)
    name = f"report-{definition.source}-{definition.rows}.csv"
    return Response(stream.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/reports/save", methods=["POST"])
@staff_required(*ANALYSTS)
def reports_save() -> Any:
    form = SaveReportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        raw = json.loads(form.definition.data)
        definition = pivot.parse(raw if isinstance(raw, dict) else {})
    except (ValueError, ValidationError):
        abort(400)
    try:
        with transaction() as session:
            report = reports.save(session, current_user, form.name.data, definition, utcnow())
            name = report.name
    except ValidationError as problem:
        flash(translate_error(problem), "danger")
    else:
        flash(gettext("Report saved: %(name)s.", name=name), "success")
    return redirect(url_for("studio.crm_analysis.reports_page", **report_args(definition)), 303)


@bp.route("/reports/<int:report_id>/delete", methods=["POST"])
@staff_required(*ANALYSTS)
def reports_delete(report_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as session:
            reports.delete(session, report_id)
    except DiaryError as problem:
        flash(translate_error(problem), "danger")
    else:
        flash(gettext("Report deleted."), "success")
    return redirect(url_for("studio.crm_analysis.reports_page"), 303)


@bp.route("/reports/<int:report_id>/weekly", methods=["POST"])
@staff_required(*ANALYSTS)
def reports_weekly(report_id: int) -> Any:
    form = WeeklyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction() as session:
            report = reports.set_weekly(session, report_id, form.weekly.data == "on")
            weekly, name = report.weekly, report.name
    except DiaryError as problem:
        flash(translate_error(problem), "danger")
    else:
        flash(gettext("“%(name)s” now goes to every analyst by email each week.", name=name)
              if weekly else gettext("“%(name)s” is no longer emailed.", name=name), "success")
    return redirect(url_for("studio.crm_analysis.reports_page"), 303)
