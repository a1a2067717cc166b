"""Growth charts (WHO standards) and the milestone checklist for one child."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from clock import utcnow
from diary import families, growth_report
from diary import milestones as milestone_service
from diary.errors import DiaryError
from webapp import rewards_glue
from webapp.blueprints.growth import charts
from webapp.blueprints.growth.forms import UntickForm
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.i18n import child_today, current_locale, translate_error
from webapp.services import photo_store

bp = Blueprint("growth", __name__)


def _born_child(child_id: int, write: bool = False):  # type: ignore[no-untyped-def]
    child, membership = families.child_access(get_session(), current_user, child_id, write)
    if not child.is_born:
        flash(gettext("Growth charts and milestones start once your baby is born."), "info")
        return None, membership
    return child, membership


@bp.route("/children/<int:child_id>/growth")
@login_required
def chart(child_id: int) -> Any:
    child, membership = _born_child(child_id)
    if child is None:
        return redirect(url_for("diary.child_home", child_id=child_id))
    rows = growth_report.samples(get_session(), child)
    panels = [charts.panel(child, indicator, rows) for indicator in charts.INDICATORS]
    return render_template("growth/chart.html", child=child, panels=panels,
                           can_write=membership.can_write)


@bp.route("/children/<int:child_id>/growth/<indicator>.json")
@login_required
def chart_data(child_id: int, indicator: str) -> Any:
    child, _ = families.child_access(get_session(), current_user, child_id)
    if indicator not in charts.INDICATORS:
        abort(404)
    if not child.is_born:
        return jsonify(error=gettext("Growth charts start once your baby is born.")), 409
    return jsonify(charts.chart_json(child, indicator,
                                     growth_report.samples(get_session(), child)))


@bp.route("/children/<int:child_id>/milestones")
@login_required
def milestones(child_id: int) -> Any:
    child, membership = _born_child(child_id)
    if child is None:
        return redirect(url_for("diary.child_home", child_id=child_id))
    checklist = milestone_service.checklist(get_session(), child, child_today(child))
    groups = [(month, milestone_service.for_checkpoint(month))
              for month in milestone_service.CHECKPOINTS]
    return render_template("growth/milestones.html", child=child, checklist=checklist,
                           groups=groups, can_write=membership.can_write,
                           form=ConfirmForm(), locale=current_locale(),
                           source=milestone_service.source(current_locale()))


def _checklist_url(child_id: int, milestone_id: str) -> str:
    return url_for("growth.milestones", child_id=child_id) + f"#m-{milestone_id}"


@bp.route("/children/<int:child_id>/milestones/<milestone_id>", methods=["POST"])
@login_required
def toggle_milestone(child_id: int, milestone_id: str) -> Any:
    """Tick, or untick: an entry as the tick made it goes at once; one holding the
    parent's photos or words is only deleted after the question on the untick page."""
    child, _ = families.child_access(get_session(), current_user, child_id, write=True)
    if ConfirmForm().validate_on_submit():
        keys: list[str] = []
        try:
            with transaction() as s:
                if request.form.get("action") == "untick":
                    keys = rewards_glue.untick_milestone(s, child, milestone_id)
                else:
                    entry = milestone_service.tick(s, child, current_user, milestone_id,
                                                   utcnow(), current_locale())
                    rewards_glue.entry_created(s, current_user, entry)
        except milestone_service.ConfirmUntick:
            return redirect(url_for("growth.untick_milestone", child_id=child.id,
                                    milestone_id=milestone_id), 303)
        except DiaryError as error:
            flash(translate_error(error), "warning")
        else:
            photo_store().delete(keys)
    return redirect(_checklist_url(child.id, milestone_id))


@bp.route("/children/<int:child_id>/milestones/<milestone_id>/untick",
          methods=["GET", "POST"])
@login_required
def untick_milestone(child_id: int, milestone_id: str) -> Any:
    """Say what unticking would delete (date, photos, note) and let the parent choose:
    delete the entry, keep it and only untick, or keep it all ("Keep it": back)."""
    s = get_session()
    child, _ = families.child_access(s, current_user, child_id, write=True)
    try:
        preview = milestone_service.untick_preview(s, child, milestone_id)
    except DiaryError as error:
        flash(translate_error(error), "warning")
        return redirect(_checklist_url(child.id, milestone_id))
    form = UntickForm()
    changed = False
    if form.validate_on_submit():
        keep = form.choice.data == "keep_entry"
        try:
            with transaction() as tx:
                keys = rewards_glue.untick_milestone(tx, child, milestone_id, keep_entry=keep,
                                                     confirmed=form.seen.data)
        except milestone_service.ConfirmUntick as error:
            preview, changed = error.preview, True  # it changed while they were deciding
        else:
            photo_store().delete(keys)
            flash(gettext("Unticked. The diary entry stays in the book.") if keep else
                  gettext("Unticked, and its diary entry is deleted."), "info")
            return redirect(_checklist_url(child.id, milestone_id))
    form.seen.data = preview.fingerprint
    status = 409 if changed else 400 if request.method == "POST" else 200
    return render_template("growth/untick.html", child=child, preview=preview, form=form,
                           changed=changed, locale=current_locale(),
                           back=_checklist_url(child.id, milestone_id)), status
