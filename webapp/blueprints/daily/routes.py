"""Timers, the day's summary and charts, and the vaccination record: thin views over
diary.timers, diary.daily_summary and diary.vaccinations."""
from __future__ import annotations

import functools
import io
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from content import reminders
from content.library import Shown
from diary import daily_summary, families, timers, vaccinations
from diary.errors import Conflict, DiaryError
from diary.models import Child
from webapp.babel_fast import gettext, ngettext
from webapp.blueprints.daily import charts
from webapp.blueprints.daily.forms import (
    StartTimerForm,
    StopTimerForm,
    TickReminderForm,
    VaccinationEditForm,
    VaccinationForm,
)
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import child_today, current_locale, local_date_text, translate_error

bp = Blueprint("daily", __name__)

#: How many days the summary page shows.
SUMMARY_DAYS = 14


# --- the child page's part ---------------------------------------------------------------------

def duration_text(minutes: int) -> str:
    """"45 min", "2 h 10 min", "3 h"."""
    hours, rest = divmod(max(0, minutes), 60)
    if not hours:
        return gettext("%(minutes)d min", minutes=rest)
    if not rest:
        return gettext("%(hours)d h", hours=hours)
    return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)


def side_text(side: str | None) -> str:
    if side == "left":
        return gettext("left")
    return gettext("right") if side == "right" else ""


def timer_label(kind: str) -> str:
    return gettext(timers.TIMER_KINDS[kind].label)


def child_page_context(child: Child, day: daily_summary.ChildDay, shown: list[Shown],
                       now: datetime, today: date) -> dict[str, Any]:
    """What the child page shows of the daily tools (the diary view adds it), from its
    `daily_summary.child_day` read at `now`, `today` being the family's date then; `shown`:
    the reminders of "this week". Its forms
    are plain markup with the request's CSRF token (templates/daily/_today.html): building
    WTForms objects on every visit cost a third of the page."""
    if not child.is_born:
        return {"daily": None}
    tickable = reminders.tickable_shown(shown)
    return {"daily": {
        "status": day.status,
        "running": day.running,
        "timers": timers.offered(child, today),
        "now": now,
        "tickable": tickable,
        "ticked": {k: v for k, v in day.ticked.items() if k in tickable},
        "today": today,
    }}


def _back(child: Child) -> Any:
    target = request.form.get("back")
    if target == "days":
        return redirect(url_for("daily.days", child_id=child.id))
    return redirect(url_for("diary.child_home", child_id=child.id) + "#today")


def _writable(child_id: int) -> Child:
    return families.child_for(get_session(), current_user, child_id, write=True)


# --- timers ------------------------------------------------------------------------------------

@bp.route("/children/<int:child_id>/timers", methods=["POST"])
@login_required
def start_timer(child_id: int) -> Any:
    child = _writable(child_id)
    form = StartTimerForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            timer = timers.start(tx, child, current_user, form.kind.data or "",
                                 form.side.data or None)
        flash(gettext("%(timer)s timer started.", timer=timer_label(timer.kind)), "success")
    except DiaryError as error:
        flash(translate_error(error), "info" if isinstance(error, Conflict) else "danger")
    return _back(child)


@bp.route("/children/<int:child_id>/timers/<int:timer_id>/stop", methods=["POST"])
@login_required
def stop_timer(child_id: int, timer_id: int) -> Any:
    child = _writable(child_id)
    form = StopTimerForm()
    timers.timer_of(get_session(), child, timer_id)  # another child's timer: 404
    if not form.validate_on_submit():
        flash(gettext("The minutes must be a whole number."), "danger")
        return _back(child)
    try:
        with transaction() as tx:
            timers.stop(tx, child, current_user, timer_id, form.minutes.data)
        flash(gettext("Saved to %(name)s's book.", name=child.name), "success")
    except DiaryError as error:
        flash(translate_error(error), "info" if isinstance(error, Conflict) else "danger")
    return _back(child)


@bp.route("/children/<int:child_id>/timers/<int:timer_id>/discard", methods=["POST"])
@login_required
def discard_timer(child_id: int, timer_id: int) -> Any:
    child = _writable(child_id)
    timers.timer_of(get_session(), child, timer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            timers.discard(tx, child, timer_id)
        flash(gettext("The timer is discarded."), "info")
    except DiaryError as error:
        flash(translate_error(error), "info")
    return _back(child)


# --- the summary -------------------------------------------------------------------------------

def _end_day(child: Child) -> date:
    today = child_today(child)
    raw = request.args.get("end", "")
    try:
        end = date.fromisoformat(raw) if raw else today
    except ValueError:
        abort(404)
    if end > today or (child.birth_date is not None and end < child.birth_date):
        abort(404)
    return end


def _logged(day: daily_summary.Day) -> bool:
    """Whether anything the page counts happened on `day` (a running sleep included)."""
    return any(getattr(day, metric) for metric in daily_summary.METRICS) \
        or bool(day.running_spans)


@bp.route("/children/<int:child_id>/days")
@login_required
def days(child_id: int) -> Any:
    s = get_session()
    child, membership = families.child_access(s, current_user, child_id)
    if not child.is_born:
        abort(404)
    assert child.birth_date is not None
    end = _end_day(child)
    today = child_today(child)
    first = max(child.birth_date, end - timedelta(days=SUMMARY_DAYS - 1))
    summary = daily_summary.summarise(s, child, first, end)
    shown = summary.days
    t = summary.trends

    def hours(minutes: float | None) -> str:  # None: nothing logged to average
        if minutes is None:
            return "—"
        return gettext("%(hours)s h", hours=f"{minutes / 60:.1f}".rstrip("0").rstrip("."))

    def count(n: float | None) -> str:
        return "—" if n is None else f"{n:.1f}".rstrip("0").rstrip(".")

    def ml(n: float) -> str:
        return gettext("%(amount)s ml", amount=f"{n:.0f}")

    bars = functools.partial(charts.bar_chart, shown, today=today)  # today's bar: so far
    context = {
        "child": child, "can_write": membership.can_write, "summary": summary, "end": end,
        "today": today, "latest": shown[-1], "weeks": daily_summary.weeks(summary, today),
        # Fourteen empty charts say less than one sentence; a toddler's page offers no
        # tummy time, so its days show it only when some was logged.
        "logged": any(_logged(d) for d in shown),
        "show_tummy": "tummy" in timers.offered(child, today)
        or any(d.tummy_minutes for d in shown),
        "sleep": bars([d.sleep_minutes for d in shown], t["sleep_minutes"], hours, scale=60,
                      tick_text=lambda n: f"{n / 60:.0f}"),
        "feeds": bars([d.feeds for d in shown], t["feeds"], count),
        "feed_ml": bars([d.feed_ml for d in shown], t["feed_ml"], ml,
                        tick_text=lambda n: f"{n:.0f}") if any(d.feed_ml for d in shown) else None,
        "nappies": bars([d.nappies for d in shown], t["nappies"], count),
        "rhythm": charts.rhythm(shown),
        "earlier": first - timedelta(days=1) if first > child.birth_date else None,
        "later": min(today, end + timedelta(days=SUMMARY_DAYS)) if end < today else None,
        "history": timers.history(s, child),
        "day_label": charts.long_day_label, "week_label": charts.week_label, "hours": hours,
        "count": count,
        "duration_text": duration_text, "side_text": side_text, "timer_label": timer_label,
    }
    return render_template("daily/days.html", **context)


# --- reminders and the vaccination record ------------------------------------------------

@bp.route("/children/<int:child_id>/reminders/<key>/done", methods=["POST"])
@login_required
def tick_reminder(child_id: int, key: str) -> Any:
    child = _writable(child_id)
    category = reminders.tickable(get_session(), [key]).get(key)
    if category is None:
        abort(404)
    form = TickReminderForm()
    if not form.validate_on_submit():
        flash(gettext("Please enter the date."), "danger")
        return _back(child)
    try:
        with transaction() as tx:
            vaccinations.tick_reminder(tx, child, current_user, key, category,
                                       form.given_on.data)
        flash(gettext("Ticked off: done on %(date)s.", date=local_date_text(form.given_on.data)),
              "success")
    except DiaryError as error:
        flash(translate_error(error), "danger")
    return _back(child)


def _record(session: Session, child: Child) -> tuple[list[Any], dict[str, str]]:
    rows = vaccinations.records(session, child)
    return rows, reminders.titles(session, [r.reminder_key for r in rows if r.reminder_key],
                                  current_locale())


@bp.route("/children/<int:child_id>/vaccinations", methods=["GET", "POST"])
@login_required
def vaccination_record(child_id: int) -> Any:
    s = get_session()
    child, membership = families.child_access(s, current_user, child_id)
    if not child.is_born:
        abort(404)
    form = VaccinationForm()
    if request.method != "POST":
        form.given_on.data = child_today(child)
    elif not membership.can_write:
        families.child_for(s, current_user, child_id, write=True)  # 403
    if request.method == "POST" and form.validate_on_submit():
        try:
            with transaction() as tx:
                vaccinations.add(tx, child, current_user, form.category.data or "",
                                 form.name.data or "", form.given_on.data, form.note.data or "")
            flash(gettext("Added to the record."), "success")
            return redirect(url_for("daily.vaccination_record", child_id=child.id))
        except DiaryError as error:
            apply_error(form, error)
    rows, titles = _record(s, child)
    return render_template("daily/vaccinations.html", child=child, form=form, rows=rows,
                           titles=titles, can_write=membership.can_write,
                           confirm_form=ConfirmForm()), 400 if form.errors else 200


@bp.route("/children/<int:child_id>/vaccinations.csv")
@login_required
def vaccination_csv(child_id: int) -> Any:
    s = get_session()
    child = families.child_for(s, current_user, child_id)
    rows, titles = _record(s, child)
    out = io.StringIO()
    vaccinations.write_csv(out, child, rows, titles)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="vaccinations-{child.id}.csv"',
        "Cache-Control": "private, no-store"})


@bp.route("/children/<int:child_id>/vaccinations/<int:record_id>/edit",
          methods=["GET", "POST"])
@login_required
def edit_vaccination(child_id: int, record_id: int) -> Any:
    """Correct a row of the record (a wrong date, a note to add): owners and editors."""
    s = get_session()
    child = _writable(child_id)
    row = vaccinations.record_of(s, child, record_id)
    form = VaccinationEditForm(obj=row)
    if row.reminder_key is not None:
        del form.category  # the reminder's kind
    if form.validate_on_submit():
        try:
            kind = getattr(form, "category", None)  # gone for a ticked reminder: update
            with transaction() as tx:              # keeps the reminder's kind either way
                vaccinations.update(tx, row, child, (kind.data if kind else "") or "",
                                    form.name.data or "", form.given_on.data,
                                    form.note.data or "")
            flash(gettext("The record is updated."), "success")
            return redirect(url_for("daily.vaccination_record", child_id=child.id))
        except DiaryError as error:
            apply_error(form, error)
    titles = reminders.titles(s, [row.reminder_key], current_locale()) if row.reminder_key \
        else {}
    return render_template("daily/vaccination_edit.html", child=child, form=form, row=row,
                           reminder_title=titles.get(row.reminder_key or "", "")), \
        400 if form.errors else 200


@bp.route("/children/<int:child_id>/vaccinations/<int:record_id>/delete", methods=["POST"])
@login_required
def delete_vaccination(child_id: int, record_id: int) -> Any:
    child = _writable(child_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with transaction() as tx:
        vaccinations.remove(tx, child, record_id)
    flash(gettext("Removed from the record."), "info")
    return redirect(url_for("daily.vaccination_record", child_id=child.id))


def nappies_text(nappies: daily_summary.Nappies) -> str:
    return ngettext("%(num)d nappy today (%(wet)d wet, %(dirty)d dirty)",
                    "%(num)d nappies today (%(wet)d wet, %(dirty)d dirty)", nappies.total,
                    wet=nappies.wet, dirty=nappies.dirty)


# Template globals, not a context processor: a processor builds its dict for every page.
bp.add_app_template_global(duration_text, "daily_duration")
bp.add_app_template_global(side_text, "daily_side")
bp.add_app_template_global(timer_label, "daily_timer_label")
bp.add_app_template_global(nappies_text, "daily_nappies")


__all__ = ["bp", "child_page_context"]
