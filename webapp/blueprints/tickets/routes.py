"""Questions and complaints, the parents' side (`care.tickets`), and replies by email:

    /help/ask                    "Ask us": a new ticket (prefilled with ?from=<site path>)
    /help/tickets                the parent's tickets
    /help/tickets/<id>           one ticket and its conversation (internal notes never)
    /help/tickets/<id>/reply     the parent answers (POST)
    /help/tickets/<id>/attachments/<aid>/<size>   a photo of the ticket (owner only)
    /help/t/<token>              the signed link of a ticket email: opens the ticket
    /api/care/inbound-email      the mail provider posts an emailed reply (integration key)

Another family's ticket is a 404, like a missing one.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from care import tickets
from diary import families
from diary.errors import Conflict, DiaryError, NotFound, ValidationError
from webapp import tickets as web_tickets
from webapp.database import get_session, transaction
from webapp.extensions import csrf
from webapp.forms_common import apply_error
from webapp.i18n import translate_error
from webapp.rate_limits import limit, per_account, per_client
from webapp.security import safe_next
from webapp.services import photo_store
from webapp.tickets import policy, store_uploads

from .forms import ReplyForm, TicketForm

bp = Blueprint("tickets", __name__)


@bp.record_once
def _check_policy(state: Any) -> None:
    """The promise's settings (TICKET_*) are read when the app is made: a typo in the
    opening hours or a time zone stops the start, not the first parent's question."""
    state.app.extensions["ticket_policy"] = web_tickets.policy_from(state.app.config)

MAX_BODY = 1024 * 1024  # an emailed reply's JSON


def _parent_only() -> None:
    if current_user.is_staff:
        abort(404)  # staff answer tickets in the studio


def _files(field: Any) -> list[FileStorage]:
    return [f for f in (field.data or []) if f and getattr(f, "filename", "")]


def _with_uploads(form: Any, write: Any) -> Any:
    """Store the photos, then write; the files go again if anything fails."""
    stored: list[tickets.Stored] = []
    try:
        files = _files(form.photos)
        if len(files) > tickets.MAX_ATTACHMENTS:
            raise ValidationError(gettext("Attach at most %(count)d photos.",
                                          count=tickets.MAX_ATTACHMENTS), "photos")
        stored = store_uploads(files)
        with transaction() as s:
            return write(s, stored)
    except DiaryError as error:
        photo_store().delete([x.key for x in stored])
        apply_error(form, error)
        return None
    except BaseException:
        photo_store().delete([x.key for x in stored])
        raise


def _referring_path() -> str:
    """The same-site page the parent came from (the footer's "Ask us" link is cached per
    language and cannot name it; the site's Referrer-Policy is same-origin), or ""."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.route("/help/ask", methods=["GET", "POST"])
@login_required
@limit("TICKET_RATE_LIMIT", key=per_account, when=lambda: request.method == "POST")
def new() -> Any:
    _parent_only()
    form = TicketForm()
    children = families.children_of(get_session(), current_user)
    form.child_id.choices = [("", gettext("None"))] + [(str(c.id), c.name) for c in children]
    if request.method == "GET":
        form.from_path.data = tickets.safe_path(request.args.get("from") or _referring_path())
    if form.validate_on_submit():
        data = tickets.TicketInput(
            category=form.category.data or "", severity=form.severity.data or "",
            subject=form.subject.data or "", body=form.body.data or "",
            child_id=int(form.child_id.data) if (form.child_id.data or "").isdigit() else None,
            from_path=form.from_path.data or "")
        ticket = _with_uploads(form, lambda s, stored: tickets.open_ticket(
            s, current_user, data, policy(), stored))
        if ticket is not None:
            flash(gettext("Thank you. We have your question and answer within one working "
                          "day or so; we will email you."), "success")
            return redirect(url_for("tickets.show", ticket_id=ticket.id))
    status = 400 if request.method == "POST" else 200
    back = tickets.safe_path(form.from_path.data)
    return render_template("tickets/new.html", form=form, back=back), status


@bp.route("/help/tickets")
@login_required
def index() -> Any:
    _parent_only()
    return render_template("tickets/index.html",
                           tickets=tickets.customer_tickets(get_session(), current_user),
                           STATUSES=tickets.STATUSES, CATEGORIES=tickets.CATEGORIES)


def _show(ticket: tickets.Ticket, form: ReplyForm | None = None, status: int = 200) -> Any:
    return render_template("tickets/show.html", ticket=ticket,
                           messages=tickets.visible_messages(ticket),
                           form=form or ReplyForm(formdata=None),
                           STATUSES=tickets.STATUSES, CATEGORIES=tickets.CATEGORIES,
                           SEVERITIES=tickets.SEVERITIES), status


@bp.route("/help/tickets/<int:ticket_id>")
@login_required
def show(ticket_id: int) -> Any:
    _parent_only()
    return _show(tickets.ticket_for_customer(get_session(), current_user, ticket_id))


@bp.route("/help/tickets/<int:ticket_id>/reply", methods=["POST"])
@login_required
@limit("UPLOAD_RATE_LIMIT", key=per_account)
def reply(ticket_id: int) -> Any:
    _parent_only()
    ticket = tickets.ticket_for_customer(get_session(), current_user, ticket_id)
    form = ReplyForm()
    if form.validate_on_submit():
        done = _with_uploads(form, lambda s, stored: tickets.customer_reply(
            s, current_user, ticket, form.body.data or "", stored))
        if done is not None:
            flash(gettext("Your answer is sent."), "success")
            return redirect(url_for("tickets.show", ticket_id=ticket.id) + "#reply")
    return _show(ticket, form, 400)


@bp.route("/help/tickets/<int:ticket_id>/attachments/<int:attachment_id>/"
          "<any(full, thumb):size>")
@login_required
def attachment(ticket_id: int, attachment_id: int, size: str) -> Any:
    _parent_only()
    found = tickets.attachment_for_customer(get_session(), current_user, ticket_id,
                                            attachment_id)
    return send_attachment(found.storage_key, size)


def send_attachment(key: str, size: str) -> Any:
    from flask import send_file
    try:
        path = photo_store().path(key, size)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/help/t/<token>")
def by_link(token: str) -> Any:
    """The link in a ticket email: the ticket's page (sign-in first, when needed). A token
    that is not ours, or another person's, leads to the list of one's own tickets."""
    found = web_tickets.read_reply_token(get_session(), token)
    if found is None:
        return redirect(url_for("tickets.index"))
    target = url_for("tickets.show", ticket_id=found[0])
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=target))
    return redirect(safe_next(target, "tickets.index"))


# --- replies by email ------------------------------------------------------------------------

def _unauthorised() -> Any:
    response = jsonify(error=gettext("Send the integration's key: Authorization: Bearer "
                                     "<key>."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="care"'
    return response, 401


@bp.route("/api/care/inbound-email", methods=["POST"])
@csrf.exempt  # a server-to-server call: the integration's key is the proof
@limit("TICKET_INBOUND_RATE_LIMIT", key=per_client)
def inbound_email() -> Any:
    """`{"message_id", "to": [addresses], "text"}` from the mail provider: the reply address
    `reply+<token>@…` names the ticket and its parent. 201 when threaded, 200 when this
    Message-ID was threaded before, 404 for an address that is not a ticket's."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _unauthorised()
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error=gettext("The email is too large.")), 413
    with transaction() as s:
        if tickets.integration_for_key(s, key.strip()) is None:
            return _unauthorised()
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(error=gettext("Send a JSON object.")), 400
        to = payload.get("to")
        addresses = [to] if isinstance(to, str) else to if isinstance(to, list) else []
        token = web_tickets.token_from_addresses(a for a in addresses if isinstance(a, str))
        found = web_tickets.read_reply_token(s, token) if token else None
        if found is None:
            s.rollback()
            return jsonify(error=gettext("This address belongs to no ticket.")), 404
        ticket_id, user = found
        try:
            message, created = tickets.thread_inbound(
                s, ticket_id, user.id, str(payload.get("message_id") or ""),
                str(payload.get("text") or ""))
        except DiaryError as error:
            s.rollback()
            status = 404 if isinstance(error, NotFound) else \
                409 if isinstance(error, Conflict) else 400
            return jsonify(error=translate_error(error)), status
        body = {"ticket_id": ticket_id, "message_id": message.id, "created": created}
    return jsonify(body), 201 if created else 200
