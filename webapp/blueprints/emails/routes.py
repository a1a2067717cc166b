"""Email links and settings.

- `/e/c/<token>`: a signed click-tracking link from an email; logs an `EmailClick` (once
  per link: repeats and HEAD requests count nothing) and redirects to the path it names,
  on this site only.
- `/e/u/<token>`: unsubscribe. GET (and HEAD, which mail scanners send) shows a
  confirmation and changes nothing; only POST unsubscribes. POST is RFC 8058 one-click: no
  sign-in and no CSRF token (the signed token is the proof), effective at once.
- `/preferences`: the preference centre (signed in).
- `/e/bounce`: the mail provider's bounce webhook (shared secret header).
"""
from __future__ import annotations

import hmac
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required

from clock import utcnow
from diary.errors import DiaryError
from diary.locales import locale_of
from diary.policy import PRIVACY_POLICY_VERSION
from journeys import digests, preferences, unsubscribe
from journeys.models import EmailPreference
from webapp.blueprints.emails.forms import PauseForm, PreferencesForm
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.extensions import csrf
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import translate_error

bp = Blueprint("emails", __name__)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _bad_link() -> Any:
    return render_error(404, gettext("This link is not valid. Please ask for a new one."))


# --- click tracking -------------------------------------------------------------------------

@bp.route("/e/c/<token>")
def click(token: str) -> Any:
    try:
        found = digests.read_click_token(_secret(), token)
    except digests.BadClick:
        return _bad_link()
    if request.method == "GET":  # a HEAD (link checkers, scanners) is never a click
        with transaction() as s:
            digests.record_click(s, found, utcnow())
    # A relative Location: the browser stays on this site whatever the Host header said.
    return redirect(found.path, 302)


# --- unsubscribe ----------------------------------------------------------------------------

def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}{'•' * max(1, min(len(name) - 1, 6))}@{domain}"


@bp.route("/e/u/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without a session; the token is the proof
def unsubscribe_link(token: str) -> Any:
    session = get_session()
    try:
        user = unsubscribe.user_for_token(session, _secret(), token)
    except DiaryError as error:
        return render_error(404, translate_error(error))
    if request.method != "POST":  # GET and HEAD (link scanners) only show the question
        with force_locale(locale_of(user)):
            return render_template("emails_pages/unsubscribe.html", token=token,
                                   email=_masked(user.email), form=ConfirmForm(),
                                   done=False)
    with transaction() as s:
        unsubscribe.unsubscribe(s, user, unsubscribe.SOURCE, PRIVACY_POLICY_VERSION)
    if request.form.get("List-Unsubscribe") == "One-Click":
        return Response("", status=200, mimetype="text/plain")  # the mail client's POST
    with force_locale(locale_of(user)):
        return render_template("emails_pages/unsubscribe.html", token=token,
                               email=_masked(user.email), form=None, done=True)


# --- preference centre ----------------------------------------------------------------------

def _local_today() -> date:
    """The person's date, in their zone as the outbox reads it (unknown zones count as UTC)."""
    return preferences.local_date(utcnow(), current_user.timezone)


def _centre(form: PreferencesForm | None = None, pause_form: PauseForm | None = None,
            status: int = 200) -> Any:
    session = get_session()
    pref = session.get(EmailPreference, current_user.id)
    schedule = preferences.Schedule.of(pref)
    if form is None:
        form = PreferencesForm(data={
            "digest_opt_in": current_user.digest_opt_in,
            "marketing_opt_in": current_user.marketing_opt_in,
            "frequency": schedule.frequency, "send_hour": schedule.send_hour,
            "quiet_start": schedule.quiet_start, "quiet_end": schedule.quiet_end,
            "topics": list(schedule.topics),
            "survey_emails": preferences.wants_survey_email(session, current_user)})
    paused = schedule.paused_until if schedule.is_paused(_local_today()) else None
    return render_template(
        "emails_pages/preferences.html", form=form, pause_form=pause_form or PauseForm(),
        resume_form=ConfirmForm(), paused_until=paused, schedule=schedule,
        moved=schedule.effective_send_hour != schedule.send_hour), status


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences_centre() -> Any:
    if request.method != "POST":  # GET and HEAD show the page; only POST saves
        return _centre()
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                preferences.save(s, current_user, preferences.Choices(
                    digest=bool(form.digest_opt_in.data),
                    marketing=bool(form.marketing_opt_in.data),
                    frequency=form.frequency.data or "weekly",
                    send_hour=int(form.send_hour.data), quiet_start=int(form.quiet_start.data),
                    quiet_end=int(form.quiet_end.data), topics=list(form.topics.data or []),
                    surveys=bool(form.survey_emails.data)),
                    "preferences", PRIVACY_POLICY_VERSION)
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Your choices are saved."), "success")
            return redirect(url_for("emails.preferences_centre"))
    return _centre(form=form, status=400)


@bp.route("/preferences/pause", methods=["POST"])
@login_required
def pause() -> Any:
    form = PauseForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                until = preferences.pause(s, current_user, int(form.weeks.data),
                                          _local_today())
        except DiaryError as error:
            apply_error(form, error, {"weeks": "weeks"})
        else:
            flash(gettext("Email is paused until %(date)s. Your inbox on the site keeps "
                          "everything meanwhile.", date=until.isoformat()), "success")
            return redirect(url_for("emails.preferences_centre"))
    return _centre(pause_form=form, status=400)


@bp.route("/preferences/resume", methods=["POST"])
@login_required
def resume() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        with transaction() as s:
            preferences.resume(s, current_user)
        flash(gettext("Email is back on."), "success")
    return redirect(url_for("emails.preferences_centre"))


# --- bounces --------------------------------------------------------------------------------

@bp.route("/e/bounce", methods=["POST"])
@csrf.exempt  # a server-to-server webhook: authenticated by the shared secret header
def bounce() -> Any:
    """`{"email": "...", "type": "hard"|"soft"}` with `X-Webhook-Secret`; hard → suppressed."""
    secret = current_app.config.get("BOUNCE_WEBHOOK_SECRET")
    if not secret:
        abort(404)  # not configured: the endpoint does not exist
    given = request.headers.get("X-Webhook-Secret", "")
    if not hmac.compare_digest(given.encode(), str(secret).encode()):
        return jsonify(error="missing or wrong X-Webhook-Secret"), 403
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="expected a JSON object: {\"email\": ..., \"type\": "
                             "\"hard\"|\"soft\"}"), 400
    email, kind = data.get("email"), data.get("type")
    if not isinstance(email, str) or not email.strip():
        return jsonify(error="\"email\" is required"), 400
    if kind not in unsubscribe.BOUNCE_TYPES:
        return jsonify(error="\"type\" must be \"hard\" or \"soft\""), 400
    try:
        with transaction() as s:
            suppressed = unsubscribe.record_bounce(s, email, kind)
    except DiaryError as error:
        return jsonify(error=str(error)), 400
    return jsonify(email=email.strip().lower(), type=kind, suppressed=suppressed), 200

