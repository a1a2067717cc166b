"""Register, sign in and out, and reset a forgotten password."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, \
    url_for
from flask_babel import force_locale, gettext
from flask_login import current_user, login_user, logout_user

from config import PRIVACY_POLICY_VERSION
from clock import utcnow
from diary import accounts, invitations, registration
from journeys import engine as journeys
from diary.errors import DiaryError
from mailer import Email
from webapp.blueprints.auth.forms import ForgotPasswordForm, JoinForm, LoginForm, \
    RegisterForm, ResetPasswordForm
from webapp.database import get_session, transaction
from webapp.extensions import limiter
from webapp.forms_common import apply_error
from webapp.i18n import translate_error
from webapp.security import safe_next
from webapp.services import external_url, send_email

bp = Blueprint("auth", __name__)


def _profile(form: RegisterForm | JoinForm) -> accounts.Profile:
    return accounts.Profile(display_name=form.display_name.data or "",
                            timezone=form.timezone.data or "", locale=form.locale.data or "en",
                            interests=list(form.interests.data or []))


def _registration(form: RegisterForm | JoinForm, with_child: bool) -> registration.Registration:
    return registration.Registration(
        email=form.email.data or "", password=form.password.data or "", profile=_profile(form),
        relationship=form.relationship.data or "", child_data_consent=form.child_data_consent.data,
        digest_opt_in=form.digest_opt_in.data, marketing_opt_in=form.marketing_opt_in.data,
        child=form.child_details() if with_child else None)  # type: ignore[union-attr]


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("diary.dashboard"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = session.get("lang", form.locale.data)
    if form.validate_on_submit():
        try:
            with transaction() as s:
                done = registration.register(s, _registration(form, True),
                                             PRIVACY_POLICY_VERSION)
                journeys.start(s, done.child, utcnow())  # type: ignore[arg-type]
        except DiaryError as error:
            apply_error(form, error, RegisterForm.CHILD_FIELD_MAP)
        else:
            login_user(done.user)
            flash(gettext("Welcome, %(name)s! Your baby's book is ready.",
                          name=done.user.display_name), "success")
            return redirect(url_for("diary.child_home", child_id=done.child.id))  # type: ignore[union-attr]
    return render_template("auth/register.html", form=form)


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str) -> Any:
    """Accept a caregiver invitation: sign in (or create an account) and join the family."""
    s = get_session()
    try:
        invitation = invitations.invitation_for_token(
            s, token, current_app.config["SECRET_KEY"], current_app.config["INVITATION_MAX_AGE"])
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("main.home"))
    family_name = invitation.family.name
    if current_user.is_authenticated:
        if request.method == "POST":
            try:
                with transaction() as tx:
                    invitations.accept(tx, invitation, current_user)
            except DiaryError as error:
                flash(translate_error(error), "danger")
                return redirect(url_for("auth.join", token=token))
            flash(gettext("You joined %(family)s.", family=family_name), "success")
            return redirect(url_for("diary.dashboard"))
        return render_template("auth/join_confirm.html", invitation=invitation,
                               family_name=family_name)
    existing = accounts.find_user_by_email(s, invitation.email)
    if existing is not None:
        flash(gettext("Sign in as %(email)s to accept the invitation.", email=invitation.email),
              "info")
        return redirect(url_for("auth.login", next=url_for("auth.join", token=token)))
    form = JoinForm()
    if request.method == "GET":
        form.email.data = invitation.email
        form.relationship.data = invitation.relationship_to_child
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                done = registration.register(tx, _registration(form, False),
                                             PRIVACY_POLICY_VERSION)
                invitations.accept(tx, invitation, done.user)
        except DiaryError as error:
            apply_error(form, error)
        else:
            login_user(done.user)
            flash(gettext("Welcome! You joined %(family)s.", family=family_name), "success")
            return redirect(url_for("diary.dashboard"))
    return render_template("auth/join.html", form=form, invitation=invitation,
                           family_name=family_name)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _landing() -> str:
    """Where signing in leads without a `next`: staff to the studio, parents to their book."""
    return "studio.index" if current_user.is_staff else "diary.dashboard"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), _landing()))
    form = LoginForm()
    if form.validate_on_submit():
        with transaction() as s:
            user = accounts.authenticate(s, form.email.data or "", form.password.data or "")
        if user is None:
            form.form_errors.append(gettext("That email and password do not match an account."))
        else:
            login_user(user, remember=form.remember.data)
            session.pop("lang", None)
            return redirect(safe_next(request.args.get("next"), _landing()))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    flash(gettext("You are signed out. See you soon!"), "info")
    return redirect(url_for("main.home"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(get_session(), form.email.data or "")
        if user is not None and user.is_active:
            token = accounts.make_reset_token(user, current_app.config["SECRET_KEY"])
            link = external_url("auth.reset_password", token=token)
            with force_locale(user.locale):
                send_email(Email(
                    to=user.email, subject=gettext("Reset your Baby Journey password"),
                    text=render_template("emails/reset.txt", user=user, link=link),
                    html=render_template("emails/reset.html", user=user, link=link)))
        # Same answer whether or not the address exists: nothing to learn about accounts.
        flash(gettext("If an account uses that address, we have sent it a link to choose a new "
                      "password. The link works for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    s = get_session()
    try:
        user = accounts.user_for_reset_token(s, token, current_app.config["SECRET_KEY"],
                                             current_app.config["PASSWORD_RESET_MAX_AGE"])
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            with transaction():
                accounts.set_password(user, form.password.data or "")
        except DiaryError as error:
            apply_error(form, error)
        else:
            logout_user()
            flash(gettext("Your password is changed. Please sign in with the new one."),
                  "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
