"""The inbox: messages the journeys pushed, read/unread."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from care import surveys
from journeys import inbox
from webapp.blueprints.surveys.forms import AnswerForm
from webapp.blueprints.surveys.routes import link_life
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.params import id_arg
from webapp.viewer import inbox_unread

bp = Blueprint("inbox", __name__)


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    """The header's unread badge (one cheap count per page for signed-in parents)."""
    return {"inbox_unread": inbox_unread()}


@bp.route("/inbox")
@login_required
def index() -> Any:
    before = id_arg("before")
    later_page = before is not None
    entries = inbox.messages(get_session(), current_user, limit=30, before_id=before)
    # Satisfaction surveys (care) wait at the top of the first page until answered or
    # closed; every page knows how many are open, since the header's badge counts them.
    offers = surveys.open_offers(get_session(), current_user, life=link_life())
    return render_template("inbox/index.html", entries=entries, form=ConfirmForm(),
                           surveys=[] if later_page else offers, open_surveys=len(offers),
                           later_page=later_page,
                           survey_form=AnswerForm(),
                           next_before=entries[-1].message.id if len(entries) == 30 else None)


@bp.route("/inbox/<int:message_id>", methods=["POST"])
@login_required
def open_message(message_id: int) -> Any:
    """Mark read and go to the item (articles and products open their page)."""
    with transaction() as s:
        message = inbox.mark_read(s, current_user, message_id)
        entry = next((e for e in inbox.messages(s, current_user, limit=1,
                                                before_id=message.id + 1)), None)
    item = entry.item if entry else None
    if item is not None and item.kind == "article":
        return redirect(url_for("library.article", slug=item.key))
    if item is not None and item.kind == "product":
        return redirect(url_for("library.product", sku=item.key))
    return redirect(url_for("inbox.index") + f"#m-{message_id}")


@bp.route("/inbox/read-all", methods=["POST"])
@login_required
def read_all() -> Any:
    if ConfirmForm().validate_on_submit():
        with transaction() as s:
            inbox.mark_all_read(s, current_user)
    return redirect(url_for("inbox.index"))
