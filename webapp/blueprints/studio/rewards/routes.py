"""Rewards in the studio: marketers keep the samples catalogue; customer service sees the
redemptions (with the shipping addresses: recorded in the access log) and marks them sent
or cancels them (the points go back)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from clock import utcnow
from diary import staff_audit
from diary.errors import DiaryError
from rewards import catalogue
from rewards.models import Redemption
from webapp import audit
from webapp.blueprints.studio.rewards.forms import ItemForm
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm, apply_error
from webapp.i18n import current_locale, translate_error
from webapp.security import staff_required

bp = Blueprint("rewards", __name__)

#: Who keeps the catalogue, and who handles the redemptions (admins pass every check).
CATALOGUE_STAFF = ("marketer",)
REDEMPTION_STAFF = ("service",)


@bp.route("")
@staff_required(*CATALOGUE_STAFF)
def index() -> Any:
    return render_template("studio/rewards/index.html",
                           items=catalogue.items(get_session(), active_only=False),
                           locale=current_locale())


def _item_page(form: ItemForm, item_id: int | None) -> Any:
    return render_template("studio/rewards/edit.html", form=form, item_id=item_id), \
        400 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
@staff_required(*CATALOGUE_STAFF)
def new() -> Any:
    form = ItemForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                catalogue.create_item(tx, form.to_input())
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("The sample is in the catalogue."), "success")
            return redirect(url_for("studio.rewards.index"))
    return _item_page(form, None)


@bp.route("/<int:sample_id>/edit", methods=["GET", "POST"])
@staff_required(*CATALOGUE_STAFF)
def edit(sample_id: int) -> Any:
    item = catalogue.get_item(get_session(), sample_id)
    form = ItemForm(obj=item) if request.method != "POST" else ItemForm()
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                catalogue.update_item(tx, item.id, form.to_input())
        except DiaryError as error:
            apply_error(form, error)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("studio.rewards.index"))
    return _item_page(form, item.id)


@bp.route("/redemptions")
@staff_required(*REDEMPTION_STAFF)
def redemptions() -> Any:
    status = request.args.get("status", Redemption.REQUESTED)
    if status not in Redemption.STATUSES + ("all",):
        status = Redemption.REQUESTED
    rows = catalogue.queue(get_session(), None if status == "all" else status)
    audit.record_read(staff_audit.REWARD_REDEMPTIONS, users=[user for _, user in rows])
    return render_template("studio/rewards/redemptions.html", rows=rows, status=status,
                           statuses=Redemption.STATUSES, form=ConfirmForm(),
                           locale=current_locale())


def _act(redemption_id: int, action: str) -> Any:
    catalogue.get_redemption(get_session(), redemption_id)  # 404 for an unknown one
    if ConfirmForm().validate_on_submit():
        try:
            with transaction() as tx:
                if action == "sent":
                    catalogue.mark_sent(tx, redemption_id, current_user, utcnow())
                else:
                    catalogue.cancel(tx, catalogue.get_redemption(tx, redemption_id),
                                     utcnow(), by=current_user)
        except DiaryError as error:
            flash(translate_error(error), "warning")
        else:
            flash(gettext("Marked as sent.") if action == "sent" else
                  gettext("Cancelled: the points went back to the parent."), "success")
    return redirect(url_for("studio.rewards.redemptions"))


@bp.route("/redemptions/<int:redemption_id>/sent", methods=["POST"])
@staff_required(*REDEMPTION_STAFF)
def mark_sent(redemption_id: int) -> Any:
    return _act(redemption_id, "sent")


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@staff_required(*REDEMPTION_STAFF)
def cancel(redemption_id: int) -> Any:
    return _act(redemption_id, "cancel")
