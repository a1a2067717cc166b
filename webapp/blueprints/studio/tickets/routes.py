"""The service team's tickets (`care.tickets`), for customer service (admins pass too):

    /studio/tickets                         the queue: filters, due times, breaches
    /studio/tickets/<id>                    one ticket: conversation, notes, events, actions
    /studio/tickets/<id>/reply|note|status|assign        its actions (POST)
    /studio/tickets/<id>/privacy/<export|delete>         a privacy request fulfilled (POST)
    /studio/tickets/<id>/attachments/<aid>/<size>        a photo of the ticket
    /studio/tickets/report                  share answered in time, median first response
    /studio/tickets/canned                  canned replies (both languages)

Pages that show customers record the read in the staff access log first.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext, lazy_gettext
from flask_login import current_user

from care import tickets
from clock import utcnow
from crm.contact import DEPARTMENTS
from diary import staff_audit
from diary.errors import DiaryError, NotFound
from diary.locales import reading_locale
from diary.models import Child, User
from webapp import audit, data_export
from webapp.blueprints.studio.tickets.forms import (
    AssignForm,
    CannedForm,
    NoteForm,
    PrivacyForm,
    StaffReplyForm,
    StatusForm,
)
from webapp.blueprints.tickets.routes import send_attachment
from webapp.database import get_session, transaction
from webapp.forms_common import ConfirmForm
from webapp.i18n import translate_error
from webapp.security import staff_required
from webapp.services import photo_store, site_url_for
from webapp.tickets import policy

bp = Blueprint("tickets", __name__)

SERVICE = ("service",)  # admins pass every staff_required check


def _words(names: dict[str, str]) -> dict[str, Any]:
    return {code: lazy_gettext(name) for code, name in names.items()}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(STATUSES=_words(tickets.STATUSES), CATEGORIES=_words(tickets.CATEGORIES),
                SEVERITIES=_words(tickets.SEVERITIES), DEPARTMENTS=_words(DEPARTMENTS),
                EVENT_KINDS=_words(tickets.EVENT_KINDS))


def _filters() -> tickets.Filters:
    args = request.args
    assignee = args.get("assignee", "")
    return tickets.Filters(
        status=args.get("status", "open") if args.get("status", "open") in
        ("", "open", *tickets.STATUSES) else "open",
        category=args.get("category", "") if args.get("category") in tickets.CATEGORIES
        else "",
        department=args.get("department", "") if args.get("department") in DEPARTMENTS
        else "",
        assignee=assignee if assignee == "none" or (assignee.isdigit() and len(assignee) < 10)
        else "",
        breached=args.get("breached") == "1")


@bp.route("")
@staff_required(*SERVICE)
def index() -> Any:
    s = get_session()
    filters = _filters()
    rows = tickets.queue(s, filters, policy())
    audit.record_read(staff_audit.TICKET_QUEUE, users=[r.customer for r in rows])
    return render_template("studio/tickets/index.html", rows=rows, filters=filters,
                           agents=tickets.staff_members(s))


def _page(ticket: tickets.Ticket, status: int = 200, **forms: Any) -> Any:
    s = get_session()
    customer = s.get(User, ticket.user_id)
    child = s.get(Child, ticket.child_id) if ticket.child_id else None
    audit.record_read(staff_audit.TICKET_VIEW, users=[customer])
    agents = tickets.staff_members(s)
    assign = forms.get("assign") or AssignForm(formdata=None, department=ticket.department,
                                               assignee_id=str(ticket.assignee_id or ""))
    assign.assignee_id.choices = [("", gettext("Nobody yet"))] + [
        (str(a.id), a.display_name) for a in agents]
    reply = forms.get("reply") or StaffReplyForm(formdata=None)
    canned = tickets.canned_replies(s)
    chosen = request.args.get("canned", "")
    if chosen.isdigit() and not reply.body.data:
        found = next((c for c in canned if c.id == int(chosen)), None)
        if found is not None:
            zh = customer is not None and reading_locale(customer.locale) == "zh_CN"
            reply.body.data = (found.body_zh if zh else found.body_en) or found.body_en \
                or found.body_zh
    staff_names = {a.id: a.display_name for a in agents}
    clock = tickets.sla.standing(ticket.first_response_due_at, ticket.first_responded_at,
                                 utcnow(), policy())
    return render_template(
        "studio/tickets/show.html", ticket=ticket, customer=customer, child=child,
        messages=ticket.messages, events=tickets.events_of(s, ticket), clock=clock,
        reply=reply, note=forms.get("note") or NoteForm(formdata=None),
        status_form=forms.get("status_form") or StatusForm(formdata=None,
                                                            status=ticket.status),
        assign=assign, privacy=forms.get("privacy") or PrivacyForm(formdata=None),
        canned=canned, staff_names=staff_names), status


@bp.route("/<int:ticket_id>")
@staff_required(*SERVICE)
def show(ticket_id: int) -> Any:
    return _page(tickets.ticket_for_staff(get_session(), ticket_id))


def _act(ticket_id: int, form: Any, name: str, write: Any, done: str) -> Any:
    ticket = tickets.ticket_for_staff(get_session(), ticket_id)
    if form.validate_on_submit():
        try:
            with transaction() as s:
                write(s, ticket)
        except DiaryError as error:
            if isinstance(error, NotFound):
                raise
            form.form_errors.append(translate_error(error))
        else:
            flash(done, "success")
            return redirect(url_for("studio.tickets.show", ticket_id=ticket_id))
    return _page(ticket, 400, **{name: form})


@bp.route("/<int:ticket_id>/reply", methods=["POST"])
@staff_required(*SERVICE)
def reply(ticket_id: int) -> Any:
    form = StaffReplyForm()
    return _act(ticket_id, form, "reply", lambda s, t: tickets.staff_reply(
        s, current_user, t, form.body.data or "", form.status.data or "waiting"),
        gettext("Your reply is sent; the customer is emailed."))


@bp.route("/<int:ticket_id>/note", methods=["POST"])
@staff_required(*SERVICE)
def note(ticket_id: int) -> Any:
    form = NoteForm()
    return _act(ticket_id, form, "note", lambda s, t: tickets.add_note(
        s, current_user, t, form.body.data or ""), gettext("The note is saved."))


@bp.route("/<int:ticket_id>/status", methods=["POST"])
@staff_required(*SERVICE)
def status(ticket_id: int) -> Any:
    form = StatusForm()
    return _act(ticket_id, form, "status_form", lambda s, t: tickets.set_status(
        s, current_user, t, form.status.data or ""), gettext("The status is changed."))


@bp.route("/<int:ticket_id>/assign", methods=["POST"])
@staff_required(*SERVICE)
def assign(ticket_id: int) -> Any:
    form = AssignForm()
    form.assignee_id.choices = [("", "")] + [
        (str(a.id), a.display_name) for a in tickets.staff_members(get_session())]
    raw = form.assignee_id.data or ""
    return _act(ticket_id, form, "assign", lambda s, t: tickets.assign(
        s, current_user, t, form.department.data or "", int(raw) if raw.isdigit() else None),
        gettext("The ticket is assigned."))


@bp.route("/<int:ticket_id>/privacy/<any(export, delete):action>", methods=["POST"])
@staff_required(*SERVICE)
def privacy(ticket_id: int, action: str) -> Any:
    """Fulfil a privacy request, confirmed: "export" answers the customer with the way to
    their data download (the account page's, which only they can start: the family's
    diary never passes through staff hands); "delete" deletes the account as the account
    page does. Both are recorded as ticket events and in the staff access log."""
    s = get_session()
    ticket = tickets.ticket_for_staff(s, ticket_id)
    customer = s.get(User, ticket.user_id)
    form = PrivacyForm()
    problem = None
    if not form.validate_on_submit() or not form.confirm.data:
        problem = gettext("Confirm that you checked the request first.")
    elif ticket.category != "privacy":
        problem = gettext("Only a privacy request can be fulfilled this way.")
    elif action == "delete" and (form.member_no.data or "").strip().upper() != \
            (customer.member_no if customer else None):
        problem = gettext("Type the customer's member number to delete the account.")
    if problem is not None or customer is None:
        form.form_errors.append(problem or "")
        return _page(ticket, 400, privacy=form)
    audit.record_read(staff_audit.TICKET_PRIVACY, users=[customer])
    if action == "export":
        with force_locale(reading_locale(customer.locale)):
            text = gettext(
                "Your data is ready to download: sign in and press \"Download my data\" on "
                "your account page: %(link)s", link=site_url_for("account.index") + "#your-data")
        with transaction() as tx:
            tickets.record_privacy(tx, current_user, ticket, "export")
            tickets.staff_reply(tx, current_user, ticket, str(text), "resolved")
        flash(gettext("The customer is told how to download their data."), "success")
        return redirect(url_for("studio.tickets.show", ticket_id=ticket.id))
    with transaction() as tx:
        tickets.record_privacy(tx, current_user, ticket, "delete")
        keys = data_export.delete_account(tx, customer)
    photo_store().delete(keys)
    flash(gettext("The account is deleted."), "success")
    return redirect(url_for("studio.tickets.index"))


@bp.route("/<int:ticket_id>/attachments/<int:attachment_id>/<any(full, thumb):size>")
@staff_required(*SERVICE)
def attachment(ticket_id: int, attachment_id: int, size: str) -> Any:
    found = tickets.attachment_for_staff(get_session(), ticket_id, attachment_id)
    return send_attachment(found.storage_key, size)


@bp.route("/report")
@staff_required(*SERVICE)
def report() -> Any:
    raw = request.args.get("months", "6")
    months = int(raw) if raw.isdigit() and 1 <= int(raw) <= 24 else 6
    now = utcnow()
    since = now - timedelta(days=31 * months)
    result = tickets.report(get_session(), policy(), since, now, now)
    return render_template("studio/tickets/report.html", report=result, months=months,
                           promise=policy())


@bp.route("/canned", methods=["GET", "POST"])
@staff_required(*SERVICE)
def canned() -> Any:
    form = CannedForm()
    status_code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            raw = form.reply_id.data or ""
            try:
                with transaction() as s:
                    tickets.save_canned(s, current_user, int(raw) if raw.isdigit() else None,
                                        form.title.data or "", form.body_en.data or "",
                                        form.body_zh.data or "")
            except DiaryError as error:
                if isinstance(error, NotFound):
                    raise
                form.form_errors.append(translate_error(error))
            else:
                flash(gettext("The canned reply is saved."), "success")
                return redirect(url_for("studio.tickets.canned"))
        status_code = 400
    replies = tickets.canned_replies(get_session())
    edits = {r.id: CannedForm(formdata=None, reply_id=str(r.id), title=r.title,
                              body_en=r.body_en, body_zh=r.body_zh) for r in replies}
    return render_template("studio/tickets/canned.html", form=form, replies=replies,
                           edits=edits, confirm=ConfirmForm()), status_code


@bp.route("/canned/<int:reply_id>/delete", methods=["POST"])
@staff_required(*SERVICE)
def canned_delete(reply_id: int) -> Any:
    if ConfirmForm().validate_on_submit():
        with transaction() as s:
            tickets.delete_canned(s, current_user, reply_id)
        flash(gettext("The canned reply is deleted."), "success")
    return redirect(url_for("studio.tickets.canned"))


def due_class(row_clock: Any) -> str:
    return "table-danger" if row_clock.breached else "table-warning" if row_clock.near else ""


@bp.app_template_global("ticket_due_class")
def _due_class(clock: Any) -> str:
    return due_class(clock)


