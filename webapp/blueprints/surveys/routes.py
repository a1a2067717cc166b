"""Satisfaction surveys for parents.

- `/surveys/<id>`: one of the signed-in person's own surveys (anyone else's is a 404): the
  scale's buttons and a comment box; POST answers, once.
- `/s/<token>`: a one-click score link from the survey email. It needs no sign-in: the signed
  token (the offer, its random key, the score; expiring) is the proof. GET and HEAD (mail
  scanners, link checkers) only show the score with an auto-focused confirm button and change
  nothing; the POST (a form of this site, with its CSRF token) records the score, once, and
  offers the comment box (`/s/<token>/comment`).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required

from care import surveys
from clock import utcnow
from diary.errors import DiaryError
from diary.locales import locale_of
from diary.models import User
from webapp import rewards_glue
from webapp.blueprints.surveys.forms import QUESTIONS, SCALE_ENDS, AnswerForm, CommentForm
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.forms_common import apply_error
from webapp.i18n import translate_error

bp = Blueprint("surveys", __name__)


@bp.record_once
def _words(state: BlueprintSetupState) -> None:
    """The surveys' fixed words, as template globals (a context processor would build its
    dict for every page)."""
    state.app.jinja_env.globals.update(SURVEY_QUESTIONS=QUESTIONS, SURVEY_SCALE_ENDS=SCALE_ENDS,
                                       SURVEY_SCALES=surveys.SCALES)


def link_life() -> timedelta:
    return timedelta(days=int(current_app.config["SURVEY_LINK_DAYS"]))


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


# --- signed in ---------------------------------------------------------------------------------

def _page(offer: surveys.SurveyOffer, form: AnswerForm | None = None,
          comment_form: CommentForm | None = None, status: int = 200) -> Any:
    return render_template("surveys/offer.html", offer=offer, form=form or AnswerForm(),
                           comment_form=comment_form or CommentForm(),
                           expired=offer.answered_at is None and
                           offer.offered_at <= utcnow() - link_life()), status


@bp.route("/surveys/<int:offer_id>", methods=["GET", "POST"])
@login_required
def offer_page(offer_id: int) -> Any:
    offer = surveys.offer_for(get_session(), current_user, offer_id)
    if request.method != "POST":  # GET and HEAD only show the survey
        return _page(offer)
    form = AnswerForm()
    if not form.validate_on_submit() or form.score.data is None:
        if not form.errors:
            form.score.errors = [gettext("Please choose a score.")]
        return _page(offer, form=form, status=400)
    try:
        with transaction() as tx:
            answered = surveys.offer_for(tx, current_user, offer_id)
            surveys.answer(tx, answered, int(form.score.data), "site", form.comment.data)
            rewards_glue.survey_answered(tx, answered)
    except DiaryError as error:
        apply_error(form, error)
        return _page(offer, form=form, status=409 if isinstance(
            error, surveys.AlreadyAnswered) else 400)
    flash(gettext("Thank you for your answer!"), "success")
    return redirect(url_for("surveys.offer_page", offer_id=offer_id), 303)


@bp.route("/surveys/<int:offer_id>/comment", methods=["POST"])
@login_required
def comment(offer_id: int) -> Any:
    offer = surveys.offer_for(get_session(), current_user, offer_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                surveys.add_comment(tx, surveys.offer_for(tx, current_user, offer_id),
                                    form.comment.data)
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Thank you for your comment!"), "success")
            return redirect(url_for("surveys.offer_page", offer_id=offer_id), 303)
    return _page(offer, comment_form=form, status=400)


# --- the email's one-click links ---------------------------------------------------------------

def _link(token: str) -> surveys.LinkAnswer | None:
    try:
        return surveys.read_answer_token(get_session(), _secret(), token, link_life())
    except DiaryError:
        return None


def _bad_link() -> Any:
    return render_error(404, gettext("This link is not valid. Please ask for a new one."))


def _landing(found: surveys.LinkAnswer, token: str, stage: str, status: int = 200,
             form: AnswerForm | None = None, comment_form: CommentForm | None = None) -> Any:
    user = get_session().get(User, found.offer.user_id)
    with force_locale(locale_of(user) if user is not None else "en"):
        return render_template("surveys/link.html", offer=found.offer, score=found.score,
                               token=token, stage=stage, form=form or AnswerForm(),
                               comment_form=comment_form or CommentForm()), status


@bp.route("/s/<token>", methods=["GET", "POST"])
def answer_link(token: str) -> Any:
    found = _link(token)
    if found is None:
        return _bad_link()
    if request.method != "POST":  # GET and HEAD (link scanners) only ask for the click
        return _landing(found, token, "answered" if found.offer.answered_at else "confirm")
    form = AnswerForm()
    if not form.validate_on_submit():
        return _landing(found, token, "confirm", 400, form=form)
    try:
        with transaction() as tx:
            offer = tx.get(surveys.SurveyOffer, found.offer.id)
            assert offer is not None
            surveys.answer(tx, offer, found.score, "email")
            rewards_glue.survey_answered(tx, offer)
    except surveys.AlreadyAnswered:
        return _landing(found, token, "answered", 409)
    except DiaryError as error:
        form.form_errors.append(translate_error(error))
        return _landing(found, token, "confirm", 400, form=form)
    return _landing(_link(token) or found, token, "thanks")


@bp.route("/s/<token>/comment", methods=["POST"])
def comment_link(token: str) -> Any:
    found = _link(token)
    if found is None:
        return _bad_link()
    form = CommentForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                offer = tx.get(surveys.SurveyOffer, found.offer.id)
                assert offer is not None
                surveys.add_comment(tx, offer, form.comment.data)
        except surveys.AlreadyAnswered:
            return _landing(found, token, "answered", 409)
        except DiaryError as error:
            apply_error(form, error)
        else:
            return _landing(_link(token) or found, token, "commented")
    return _landing(found, token, "thanks", 400, comment_form=form)
