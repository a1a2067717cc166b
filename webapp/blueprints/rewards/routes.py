"""The parent's rewards: points and history, the samples, redeeming one (with a confirm
step), their redemptions and cancelling one that is not sent yet."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from clock import utcnow
from diary.errors import DiaryError
from rewards import catalogue, points, rules
from webapp import rewards_glue
from webapp.blueprints.rewards.forms import AddressForm
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import current_locale, translate_error

bp = Blueprint("rewards", __name__, url_prefix="/rewards")
#: The newest lines of the points history the page shows (a line folds a day's awards of
#: one kind; the data export has every row).
HISTORY_SHOWN = 30


@bp.route("")
@login_required
def index() -> Any:
    s = get_session()
    return render_template("rewards/index.html", balance=points.balance(s, current_user),
                           history=points.history_lines(s, current_user, HISTORY_SHOWN),
                           items=catalogue.items(s),
                           redemptions=catalogue.redemptions_of(s, current_user),
                           rules=rules.RULES.values(), streaks=rules.STREAK_LENGTHS,
                           locale=current_locale())


@bp.route("/samples/<int:sample_id>", methods=["GET", "POST"])
@login_required
def redeem(sample_id: int) -> Any:
    """The address form; then the confirm page (what it costs, where it goes); then the
    redemption. The form's one-time key makes a second press of Confirm harmless."""
    s = get_session()
    item = catalogue.get_item(s, sample_id)
    if not item.active:
        abort(404)
    form = AddressForm()
    if request.method != "POST":  # GET and HEAD: the form, filled from the profile
        form.request_key.data = secrets.token_urlsafe(16)
        form.recipient.data = current_user.display_name[:40]
        form.phone.data = current_user.phone or ""
        form.province.data = current_user.region_province or ""
        form.city.data = current_user.region_city or ""
    balance = points.balance(s, current_user)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            address = catalogue.clean_address(form.to_address())
            if request.form.get("step") == "confirm":
                with transaction() as tx:
                    redemption = catalogue.redeem(tx, current_user, item.id, address,
                                                  form.request_key.data or "", utcnow())
                    rewards_glue.redemption_made(tx, redemption)
                flash(gettext("Done: %(name)s is on its way to you soon.",
                              name=item.name(current_locale())), "success")
                return redirect(url_for("rewards.redemption", redemption_id=redemption.id))
            if request.form.get("step") == "review":
                return render_template("rewards/confirm.html", item=item, form=form,
                                       address=address, balance=balance,
                                       locale=current_locale())
            status = 200  # "Change the address" from the confirm page
        except catalogue.OutOfStock as error:
            flash(translate_error(error), "warning")
            status = 409
        except DiaryError as error:
            apply_error(form, error)
    return render_template("rewards/redeem.html", item=item, form=form, balance=balance,
                           locale=current_locale()), status


@bp.route("/redemptions/<int:redemption_id>")
@login_required
def redemption(redemption_id: int) -> Any:
    found = catalogue.redemption_of(get_session(), current_user, redemption_id)
    return render_template("rewards/redemption.html", redemption=found, form=ConfirmForm(),
                           locale=current_locale())


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@login_required
def cancel(redemption_id: int) -> Any:
    found = catalogue.redemption_of(get_session(), current_user, redemption_id)
    if ConfirmForm().validate_on_submit():
        try:
            with transaction() as tx:
                catalogue.cancel(tx, found, utcnow())
        except DiaryError as error:
            flash(translate_error(error), "warning")
        else:
            flash(gettext("Cancelled: your %(points)s points are back.", points=found.cost),
                  "info")
    return redirect(url_for("rewards.redemption", redemption_id=found.id))
