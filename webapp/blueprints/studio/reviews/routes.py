"""Product reviews in the studio: every review, newest first, with hide and restore.

Hiding takes the review off the product page (its average and count too) and takes back the
points it earned; who hid it and when is kept on the review. Restoring shows it again (the
points are not given a second time).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from clock import utcnow
from content import reviews
from content.models import ProductReview
from diary.errors import NotFound
from webapp import rewards_glue
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.i18n import current_locale
from webapp.security import staff_required

bp = Blueprint("reviews", __name__)

#: Who looks after the reviews (admins pass every check).
REVIEW_STAFF = ("reviewer", "marketer")


@bp.route("")
@staff_required(*REVIEW_STAFF)
def index() -> Any:
    return render_template("studio/reviews/index.html", rows=reviews.studio_list(get_session()),
                           form=ConfirmForm(), locale=current_locale())


@bp.route("/<int:review_id>/<any(hide, restore):action>", methods=["POST"])
@staff_required(*REVIEW_STAFF)
def decide(review_id: int, action: str) -> Any:
    if get_session().get(ProductReview, review_id) is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with transaction() as tx:
            if action == "hide":
                review, changed = reviews.hide(tx, review_id, current_user, utcnow())
                if changed:
                    rewards_glue.review_removed(tx, review)
            else:
                review, changed = reviews.restore(tx, review_id, current_user)
                if changed:
                    rewards_glue.review_restored(tx, review)
    except NotFound:
        abort(404)
    if action == "hide":
        flash(gettext("Hidden: the review is off the product page and its points went back.")
              if changed else gettext("That review was already hidden."), "success")
    else:
        flash(gettext("Restored: the review is on the product page again, with its points.")
              if changed else gettext("That review was not hidden."), "success")
    return redirect(url_for("studio.reviews.index"))
