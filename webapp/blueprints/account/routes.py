"""The account page: profile, sign-in details, consents, download and deletion."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from clock import utcnow
from diary import access_tokens, accounts, privacy, sessions
from diary.errors import DiaryError
from diary.models import Consent
from diary.policy import PRIVACY_POLICY_VERSION
from recommender import privacy as reco_privacy
from rewards import points as reward_points
from webapp import data_export
from webapp.blueprints.account.forms import (
    ConsentForm,
    DeleteAccountForm,
    EmailChangeForm,
    PasswordChangeForm,
    PersonaliseForm,
    ProfileForm,
    TokenForm,
)
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import local_datetime
from webapp.rate_limits import limit, per_account
from webapp.security import current_session_key, describe_device, refresh_sign_in, sign_out
from webapp.services import photo_store

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(**forms: Any) -> Any:
    user = current_user
    profile = forms.get("profile") or ProfileForm(obj=user)
    consents = forms.get("consents") or ConsentForm(obj=user)
    return render_template(
        "account/index.html", profile=profile, consents=consents,
        personalise=forms.get("personalise") or PersonaliseForm(obj=user),
        email_form=forms.get("email_form") or EmailChangeForm(),
        password_form=forms.get("password_form") or PasswordChangeForm(),
        consent_history=list(reversed(user.consents)),
        devices=sessions.active(get_session(), user, utcnow()), describe_device=describe_device,
        this_device=g.get("user_session"), confirm_form=ConfirmForm(),
        points_balance=reward_points.balance(get_session(), user),
        tokens=access_tokens.list_tokens(get_session(), user), now=utcnow(),
        token_form=forms.get("token_form") or TokenForm(formdata=None),
        new_secret=forms.get("new_secret"))


@bp.route("", methods=["GET"])
@login_required
def index() -> Any:
    return _page()


@bp.route("/profile", methods=["POST"])
@login_required
def profile() -> Any:
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            with transaction():
                accounts.apply_profile(current_user, accounts.Profile(
                    display_name=form.display_name.data or "", timezone=form.timezone.data or "",
                    locale=form.locale.data or "en", unit_system=form.unit_system.data or "",
                    interests=list(form.interests.data or []), phone=form.phone.data,
                    region_province=form.region_province.data,
                    region_city=form.region_city.data, birthday=form.birthday.data))
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Your details are saved."), "success")
            return redirect(url_for("account.index"))
    return _page(profile=form), 400


@bp.route("/email", methods=["POST"])
@login_required
@limit("ACCOUNT_CHANGE_RATE_LIMIT", key=per_account)
def change_email() -> Any:
    """Nothing changes until the new address's link is opened (the old one is told)."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                new_email = accounts.request_email_change(
                    s, current_user, form.current_password.data or "",
                    form.new_email.data or "")
        except DiaryError as error:
            apply_error(form, error, {"email": "new_email"})
        else:
            flash(gettext("We sent a link to %(email)s. Your address changes when you open "
                          "it; until then you keep signing in with %(current)s.",
                          email=new_email, current=current_user.email), "info")
            return redirect(url_for("account.index"))
    return _page(email_form=form), 400


@bp.route("/password", methods=["POST"])
@login_required
@limit("ACCOUNT_CHANGE_RATE_LIMIT", key=per_account)
def change_password() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                accounts.change_password(current_user, form.current_password.data or "",
                                         form.new_password.data or "")
                sessions.end_all(s, current_user, utcnow(), keep=current_session_key())
        except DiaryError as error:
            apply_error(form, error, {"password": "new_password"})
        else:
            refresh_sign_in(current_user._get_current_object())  # the stamp changed
            flash(gettext("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("account.index"))
    return _page(password_form=form), 400


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
@limit("ACCOUNT_CHANGE_RATE_LIMIT", key=per_account)
def end_other_sessions() -> Any:
    if ConfirmForm().validate_on_submit():
        with transaction() as s:
            ended = sessions.end_all(s, current_user, utcnow(), keep=current_session_key())
        flash(ngettext("%(num)d other device is signed out.",
                       "%(num)d other devices are signed out.", ended), "success")
    return redirect(url_for("account.index") + "#sessions")


@bp.route("/tokens", methods=["POST"])
@login_required
@limit("ACCOUNT_CHANGE_RATE_LIMIT", key=per_account)
def create_token() -> Any:
    """A personal access token for the API; its secret is on this answer only (no redirect:
    it is never stored, not even in the session's flashed messages)."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                _, secret = access_tokens.create(s, current_user, form.name.data or "",
                                                 form.scope.data or "", form.expires_in_days())
        except DiaryError as error:
            apply_error(form, error, {"expires_in_days": "expires"})
        else:
            return _page(new_secret=secret)
    return _page(token_form=form), 400


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Any:
    if ConfirmForm().validate_on_submit():
        with transaction() as s:
            token = access_tokens.revoke(s, current_user, token_id)
        flash(gettext("The token “%(name)s” is revoked: nothing can use it any more.",
                      name=token.name), "success")
    return redirect(url_for("account.index") + "#api-tokens")


@bp.route("/consents", methods=["POST"])
@login_required
def consents() -> Any:
    """Each change is recorded with time and policy version; withdrawal works at any time."""
    form = ConsentForm()
    if form.validate_on_submit():
        with transaction() as s:
            current = {Consent.DIGEST: current_user.digest_opt_in,
                       Consent.MARKETING: current_user.marketing_opt_in}
            for kind, wanted in ((Consent.DIGEST, form.digest_opt_in.data),
                                 (Consent.MARKETING, form.marketing_opt_in.data)):
                if bool(wanted) != bool(current[kind]):
                    accounts.record_consent(s, current_user, kind, bool(wanted), "account",
                                            PRIVACY_POLICY_VERSION)
        flash(gettext("Your choices are saved."), "success")
        return redirect(url_for("account.index"))
    return _page(consents=form), 400


@bp.route("/suggestions", methods=["POST"])
@login_required
def suggestions() -> Any:
    """"Personalise my suggestions": off, suggestions follow the stage's popularity only."""
    form = PersonaliseForm()
    if form.validate_on_submit():
        with transaction():
            reco_privacy.set_personalised(current_user, bool(form.personalise_suggestions.data))
        flash(gettext("Your choices are saved."), "success")
        return redirect(url_for("account.index") + "#suggestions")
    return _page(personalise=form), 400


@bp.route("/export", methods=["POST"])
@login_required
@limit("EXPORT_RATE_LIMIT", key=per_account)
def export() -> Any:
    """The zip of `diary.privacy.write_export`, at most `privacy.EXPORT_LIMIT` a day."""
    try:
        with transaction() as s:
            claim = privacy.claim_export(s, current_user)
    except privacy.ExportLimitReached as error:
        flash(gettext("You can download your data %(num)d times in 24 hours. You can "
                      "download it again from %(when)s.", num=error.limit,
                      when=local_datetime(error.next_at)), "warning")
        return _page(), 429
    return data_export.send_export(current_user, claim.id)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limit("ACCOUNT_CHANGE_RATE_LIMIT", key=per_account)
def delete() -> Any:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                accounts.require_password(current_user, form.current_password.data or "")
                keys = data_export.delete_account(s, current_user)
        except DiaryError as error:
            apply_error(form, error)
        else:
            photo_store().delete(keys)
            sign_out()
            flash(gettext("Your account is deleted. Thank you for having been with us."),
                  "info")
            return redirect(url_for("main.home"))
    status = 400 if request.method == "POST" else 200
    plan = privacy.leaving_plan(get_session(), current_user)
    return render_template("account/delete.html", form=form, plan=plan), status
