"""Surveys in the studio (`/studio/surveys/…`):

    /studio/surveys                     low scores to follow up: open / done, assignee, note
                                        (customer service; recorded in the access log)
    /studio/surveys/follow-ups/<id>     save one follow-up (POST)
    /studio/surveys/results             CSAT and NPS by trigger and month, response rates,
                                        comments (analysts)
    /studio/help                        "was this helpful?" counts and the least helpful
                                        answers (content staff and analysts)
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from care import help as faq_help
from care import surveys
from clock import utcnow
from diary import staff_audit
from diary.errors import DiaryError, NotFound
from webapp import audit
from webapp.blueprints.studio import READERS
from webapp.blueprints.studio.surveys.forms import STATUS_NAMES, FollowUpForm
from webapp.database import get_session, transaction
from webapp.i18n import translate_error
from webapp.security import staff_required

bp = Blueprint("surveys", __name__)
help_bp = Blueprint("help", __name__)

SERVICE = ("service",)  # admins pass every check
ANALYSTS = ("analyst",)
RESULT_MONTHS = 12


@bp.context_processor
def _words() -> dict[str, Any]:
    return dict(TRIGGER_NAMES={k: lazy_gettext(v) for k, v in surveys.TRIGGER_NAMES.items()},
                STATUS_NAMES=STATUS_NAMES, SCALES=surveys.SCALES)


def _status() -> str:
    status = request.args.get("status", "open")
    return status if status in surveys.FOLLOW_UP_STATUSES else "open"


@bp.route("")
@staff_required(*SERVICE)
def index() -> Any:
    s = get_session()
    status = _status()
    rows = surveys.follow_ups(s, status)
    people = surveys.users_by_id(s, [f.offer.user_id for f in rows] +
                                 [f.assignee_id for f in rows if f.assignee_id])
    audit.record_read(staff_audit.SURVEY_FOLLOW_UPS,
                      users=[people.get(f.offer.user_id) for f in rows])
    staff = surveys.service_staff(s)
    choices = [("", gettext("Nobody yet"))] + [(str(u.id), u.display_name) for u in staff]
    forms = []
    for row in rows:
        form = FollowUpForm(formdata=None, status=row.status, note=row.note,
                            assignee=str(row.assignee_id or ""))
        form.assignee.choices = choices
        forms.append((row, form))
    return render_template("studio/surveys/follow_ups.html", rows=forms, people=people,
                           status=status)


@bp.route("/follow-ups/<int:follow_up_id>", methods=["POST"])
@staff_required(*SERVICE)
def update(follow_up_id: int) -> Any:
    form = FollowUpForm()
    if not form.validate_on_submit():
        abort(400)
    raw = form.assignee.data or ""
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400)
    try:
        with transaction() as tx:
            surveys.update_follow_up(tx, follow_up_id, current_user, form.status.data,
                                     int(raw) if raw else None, form.note.data)
    except NotFound:
        raise
    except DiaryError as error:
        flash(translate_error(error), "danger")
    else:
        flash(gettext("Follow-up saved."), "success")
    return redirect(url_for("studio.surveys.index", status=request.form.get("back") or None)
                    + f"#f-{follow_up_id}", 303)


@bp.route("/results")
@staff_required(*ANALYSTS)
def results() -> Any:
    since = utcnow() - timedelta(days=30 * RESULT_MONTHS)
    found = surveys.results(get_session(), since)
    return render_template("studio/surveys/results.html", r=found, months=RESULT_MONTHS)


@help_bp.route("")
@staff_required(*READERS)
def stats() -> Any:
    rows = faq_help.stats(get_session())
    return render_template("studio/surveys/help.html", rows=rows,
                           worst=faq_help.least_helpful(rows), min_votes=faq_help.MIN_VOTES)
