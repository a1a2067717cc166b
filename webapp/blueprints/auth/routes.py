"""Register, prove an address, sign in and out, and reset a forgotten password.

Nothing here tells a visitor whether an address has an account: registering a taken address
and asking a reset for an unknown one answer exactly like the other case (the emails say
the rest, to the address's owner). Email goes through the account email queue.
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from clock import utcnow
from community import clubs
from diary import accounts, invitations, registration
from diary.errors import DiaryError
from diary.policy import PRIVACY_POLICY_VERSION
from journeys import engine as journeys
from webapp.blueprints.auth.forms import (
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from webapp.blueprints.studio import home_endpoint
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import translate_error
from webapp.rate_limits import limit, per_account, per_address
from webapp.security import refresh_sign_in, safe_next, sign_in, sign_out

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
@limit("REGISTER_RATE_LIMIT")
def register() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("diary.dashboard"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = session.get("lang", form.locale.data)
    if form.validate_on_submit():
        try:
            with transaction() as s:
                done = registration.sign_up(s, _registration(form, True),
                                            PRIVACY_POLICY_VERSION)
                if done is not None:
                    journeys.start(s, done.child, utcnow())  # type: ignore[arg-type]
                    if form.join_birth_club.data and done.child is not None:
                        clubs.join_birth_club(s, done.user, done.child)
        except DiaryError as error:
            apply_error(form, error, RegisterForm.CHILD_FIELD_MAP)
        else:
            return redirect(url_for("auth.check_email"))
    return render_template("auth/register.html", form=form)


@bp.route("/register/check-your-email")
def check_email() -> Any:
    """The one answer to a sign-up, whoever owns the address."""
    return render_template("auth/check_email.html")


@bp.route("/verify/<token>", methods=["GET", "POST"])
@limit("JOIN_RATE_LIMIT")
def verify_email(token: str) -> Any:
    """Open an address-check link. GET only shows a button (mail scanners open links);
    POST proves the address and signs the person in, as a reset link would."""
    s = get_session()
    try:
        used = accounts.address_link_used(s, token, current_app.config["SECRET_KEY"],
                                          current_app.config["EMAIL_VERIFY_MAX_AGE"])
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("main.home"))
    if used:  # the same page for GET and POST: no button that can only fail
        return render_template("auth/verify_used.html")
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with transaction() as tx:
                done = accounts.verify_email(tx, token, current_app.config["SECRET_KEY"],
                                             current_app.config["EMAIL_VERIFY_MAX_AGE"])
        except DiaryError as error:
            flash(translate_error(error), "danger")
            return redirect(url_for("main.home"))
        sign_in(done.user)
        if done.previous_email is not None:
            flash(gettext("Your email is now %(email)s. Other devices are signed out.",
                          email=done.user.email), "success")
            return redirect(url_for("account.index"))
        if done.first:
            flash(gettext("Welcome, %(name)s! Your baby's book is ready.",
                          name=done.user.display_name), "success")
        else:
            flash(gettext("Thank you, %(name)s: your address is confirmed.",
                          name=done.user.display_name), "success")
        if invitations.open_invitations_for(s, done.user):
            return redirect(url_for("auth.invitations_waiting"))
        return redirect(url_for("diary.dashboard"))
    return render_template("auth/verify.html", form=form)


@bp.route("/verify/resend", methods=["POST"])
@login_required
@limit("VERIFY_RESEND_RATE_LIMIT", key=per_account)
def resend_verification() -> Any:
    if ConfirmForm().validate_on_submit() and not current_user.email_verified:
        with transaction() as s:
            accounts.send_address_check(s, current_user)
        flash(gettext("We sent a new link to %(email)s.", email=current_user.email), "info")
    return redirect(safe_next(request.form.get("next"), "account.index"))


@bp.route("/invitations")
@login_required
def invitations_waiting() -> Any:
    """Invitations to this person's confirmed address, to accept with one button each."""
    waiting = invitations.open_invitations_for(get_session(), current_user)
    return render_template("auth/invitations.html", waiting=waiting, form=ConfirmForm())


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_required
def accept_invitation(invitation_id: int) -> Any:
    s = get_session()
    waiting = {i.id: i for i in invitations.open_invitations_for(s, current_user)}
    invitation = waiting.get(invitation_id)
    if invitation is None or not ConfirmForm().validate_on_submit():
        flash(gettext("This invitation is no longer open. Ask for a new one."), "danger")
        return redirect(url_for("diary.dashboard"))
    family_name = invitation.family.name
    try:
        with transaction() as tx:
            invitations.accept(tx, invitation, current_user)
    except DiaryError as error:
        flash(translate_error(error), "danger")
        return redirect(url_for("auth.invitations_waiting"))
    refresh_sign_in(current_user._get_current_object())  # new rights: a new session
    flash(gettext("You joined %(family)s.", family=family_name), "success")
    return redirect(url_for("diary.dashboard"))


@bp.route("/join/<token>", methods=["GET", "POST"])
@limit("JOIN_RATE_LIMIT")
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
            refresh_sign_in(current_user._get_current_object())  # new rights: a new session
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
                accounts.send_address_check(tx, done.user)
        except DiaryError as error:
            apply_error(form, error)
        else:
            # The link may have been forwarded: joining waits until the address is proven.
            sign_in(done.user)
            flash(gettext("Welcome! To join %(family)s, open the link we just sent to "
                          "%(email)s.", family=family_name, email=done.user.email), "info")
            return redirect(url_for("diary.dashboard"))
    return render_template("auth/join.html", form=form, invitation=invitation,
                           family_name=family_name)


def _landing() -> str:
    """Where signing in leads without a `next`: staff to their part of the studio, parents
    to their book."""
    return home_endpoint(current_user.staff_role) if current_user.is_staff \
        else "diary.dashboard"


@bp.route("/login", methods=["GET", "POST"])
@limit("LOGIN_RATE_LIMIT")
@limit("LOGIN_ACCOUNT_RATE_LIMIT", key=per_address)
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
            sign_in(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next"), _landing()))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    sign_out()
    flash(gettext("You are signed out. See you soon!"), "info")
    return redirect(url_for("main.home"))


@bp.route("/forgot", methods=["GET", "POST"])
@limit("RESET_RATE_LIMIT")
@limit("RESET_ACCOUNT_RATE_LIMIT", key=per_address)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        with transaction() as s:
            accounts.request_password_reset(s, form.email.data or "")
        # Same answer and the same work (one look-up; the email goes out after the
        # response) whether or not the address exists: nothing to learn about accounts.
        flash(gettext("If an account uses that address, we have sent it a link to choose a new "
                      "password. The link works for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limit("RESET_RATE_LIMIT")
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
            with transaction() as tx:
                accounts.reset_password(tx, user, form.password.data or "")
        except DiaryError as error:
            apply_error(form, error)
        else:
            sign_out()
            flash(gettext("Your password is changed. Please sign in with the new one."),
                  "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
