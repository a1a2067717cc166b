"""The outbox: staff see the failed and dead email deliveries of the ledger and queue them
again. Never the messages themselves: emails carry sign-in, reset, invitation and
unsubscribe links that staff must not be able to read."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext

from diary import staff_audit
from diary.accounts import users_by_id
from journeys import outbox
from webapp import audit
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.security import staff_required

bp = Blueprint("outbox", __name__)


@bp.route("")
@staff_required("marketer")
def index() -> Any:
    """Delivery problems of marketing email. The page shows the recipients' addresses:
    recorded as a read of each of them."""
    session = get_session()
    problems = outbox.problems(session)
    recipients = list(users_by_id(session, {d.user_id for d in problems}).values())
    audit.record_read(staff_audit.OUTBOX, users=recipients)
    return render_template("studio/outbox/index.html", problems=problems,
                           counts=outbox.email_counts(session),
                           emails_of={u.id: u.email for u in recipients},
                           retry_form=ConfirmForm())


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@staff_required("marketer")
def retry(delivery_id: int) -> Any:
    if ConfirmForm().validate_on_submit():
        with transaction() as s:
            done = outbox.retry(s, delivery_id)
        if done:
            flash(gettext("The email is queued again."), "success")
        else:
            flash(gettext("Only failed or dead emails can be retried."), "warning")
    return redirect(url_for("studio.outbox.index"))
