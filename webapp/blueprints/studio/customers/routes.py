"""The customer 360 (`crm`), for analysts and customer service (admins pass every check):

    /studio/customers                         search (a POST: what was typed stays out of URLs)
    /studio/customers/<id>                    one customer's whole page
    /studio/customers/<id>/notes              add a contact note (POST)
    /studio/customers/duplicates              accounts that look like one person
    /studio/customers/merge/<keep>/<merge>    a merge's preview
    /studio/customers/merge/<keep>/<merge>/confirm   the merge (POST: customer service and
                                              admins only)
    /studio/customers/merges/<id>             a merge's record

Every page that shows customers records whom it showed in the staff access log before it is
rendered (`webapp.audit.record_read`); a page that refuses its input shows no customer and
writes nothing.
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from care import surveys
from care import tickets as care_tickets
from crm import contact, customer, duplicates, search
from diary import staff_audit
from diary.errors import Conflict, DiaryError, NotFound
from diary.models import Consent, User
from webapp import audit
from webapp.blueprints.studio import CUSTOMER_STAFF, MERGERS
from webapp.blueprints.studio.customers.forms import (
    ACTIVITY_NAMES,
    CONSENT_NAMES,
    FAMILY_ROLE_NAMES,
    GROUP_NAMES,
    HIT_FIELDS,
    HIT_HOWS,
    TIER_NAMES,
    ContactNoteForm,
    CustomerSearchForm,
    MergeForm,
)
from webapp.blueprints.studio.journeys.forms import CHANNEL_CHOICES
from webapp.database import get_session, transaction
from webapp.forms_common import apply_error
from webapp.i18n import current_locale, translate_error
from webapp.security import staff_required

bp = Blueprint("customers", __name__)

PAGE_ARGS = ("contacts", "activity", "orders")


def _words(names: dict[str, str]) -> dict[str, Any]:
    """A domain vocabulary (English ids marked N_) in the reader's language."""
    return {code: lazy_gettext(name) for code, name in names.items()}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(DEPARTMENT_NAMES=_words(contact.DEPARTMENTS),
                CHANNEL_NAMES=_words(contact.CHANNELS) | dict(CHANNEL_CHOICES),
                DIRECTION_NAMES=_words(contact.DIRECTIONS),
                OUTCOME_NAMES=_words(contact.OUTCOMES),
                CAMPAIGN_NAMES=_words(contact.CAMPAIGN_NAMES),
                ACCOUNT_EMAIL_NAMES=_words(contact.ACCOUNT_EMAIL_NAMES),
                REASON_NAMES=_words(duplicates.REASONS), MERGE_KINDS=_words(duplicates.KINDS),
                CONSENT_KINDS=Consent.KINDS, HIT_FIELDS=HIT_FIELDS, HIT_HOWS=HIT_HOWS,
                TIER_NAMES=TIER_NAMES, GROUP_NAMES=GROUP_NAMES, ACTIVITY_NAMES=ACTIVITY_NAMES,
                CONSENT_NAMES=CONSENT_NAMES, FAMILY_ROLE_NAMES=FAMILY_ROLE_NAMES,
                can_merge=current_user.is_authenticated
                and current_user.staff_role in MERGERS + ("admin",))


def _page(name: str) -> int:
    """A page number from the query string: anything odd is the first page."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1


@bp.route("", methods=["GET", "POST"])
@staff_required(*CUSTOMER_STAFF)
def index() -> Any:
    """The search. GET shows the empty form; a POST searches and records whom it listed."""
    form = CustomerSearchForm(formdata=None if request.method == "GET" else request.form)
    found = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            found = search.find(get_session(), form.q.data)
        except DiaryError as error:
            apply_error(form, error)
        else:
            if found.query:
                audit.record_read(staff_audit.CUSTOMER_SEARCH,
                                  users=[r.user for r in found.results], kind=found.kind,
                                  term=found.query)
            else:
                found = None
    status = 400 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("studio/customers/index.html", form=form, found=found), status


@bp.route("/<int:user_id>")
@staff_required(*CUSTOMER_STAFF)
def show(user_id: int) -> Any:
    s = get_session()
    seen = customer.customer(s, user_id)
    locale = current_locale()
    pages = {name: _page(name) for name in PAGE_ARGS}
    contacts = contact.timeline(s, seen.user, pages["contacts"], locale=locale)
    actions = customer.activity(s, seen.user, pages["activity"], locale=locale)
    bought = customer.orders(s, seen.user, pages["orders"], locale=locale)
    pairs = duplicates.duplicates_of(s, seen.user)
    survivor = duplicates.merged_into(s, seen.user) if not seen.user.is_active else None
    shown = [seen.user, survivor] + [o.user for f in seen.families for o in f.others] + \
        [p.second if p.first.id == seen.user.id else p.first for p in pairs]
    audit.record_read(staff_audit.CUSTOMER_VIEW, users=shown,
                      families=[f.family for f in seen.families])
    form = ContactNoteForm(formdata=None, submission_id=secrets.token_hex(16))

    def page_url(name: str) -> Any:
        def build(number: int) -> str:
            args = {k: v for k, v in pages.items() if k != name and v != 1}
            return url_for("studio.customers.show", user_id=user_id, **args,
                           **{name: number}) + f"#{name}"
        return build

    return render_template("studio/customers/show.html", c=seen, contacts=contacts,
                           actions=actions, orders=bought, pairs=pairs, survivor=survivor,
                           form=form, page_url=page_url,
                           tickets=care_tickets.customer_tickets(s, seen.user),
                           TICKET_STATUSES=_words(care_tickets.STATUSES),
                           TICKET_CATEGORIES=_words(care_tickets.CATEGORIES),
                           survey_answers=surveys.latest_answers(s, seen.user.id),
                           SURVEY_SCALES=surveys.SCALES)


def _occurred_at(form: ContactNoteForm) -> datetime | None:
    """The note's date and time, typed in the staff member's own zone, in UTC."""
    if form.occurred_date.data is None:
        return None
    zone = ZoneInfo(current_user.timezone)
    return datetime.combine(form.occurred_date.data, form.occurred_time.data or time(12, 0),
                            zone).astimezone(UTC)


@bp.route("/<int:user_id>/notes", methods=["POST"])
@staff_required(*CUSTOMER_STAFF)
def add_note(user_id: int) -> Any:
    form = ContactNoteForm()
    if form.validate_on_submit():
        try:
            with transaction() as s:
                target = s.get(User, user_id)
                if target is None:
                    raise NotFound()
                contact.add_note(s, target, current_user, contact.NoteInput(
                    department=form.department.data, channel=form.channel.data,
                    direction=form.direction.data, outcome=form.outcome.data,
                    subject=form.subject.data, body=form.body.data or "",
                    occurred_at=_occurred_at(form), submission_id=form.submission_id.data))
        except NotFound:
            raise
        except DiaryError as error:
            apply_error(form, error, {"occurred_at": "occurred_date"})
        else:
            flash(gettext("The note was added to the contact history."), "success")
            return redirect(url_for("studio.customers.show", user_id=user_id) + "#contacts",
                            303)
    if get_session().get(User, user_id) is None:
        abort(404)
    # No customer data on this page: it would have to be recorded, and a refused form
    # writes nothing. The form comes back with what was typed and the reasons.
    return render_template("studio/customers/note.html", form=form, user_id=user_id), 400


@bp.route("/duplicates")
@staff_required(*CUSTOMER_STAFF)
def duplicates_list() -> Any:
    page = duplicates.candidates(get_session(), _page("page"))
    audit.record_read(staff_audit.CUSTOMER_DUPLICATES,
                      users=[u for p in page.items for u in (p.first, p.second)])

    def page_url(number: int) -> str:
        return url_for("studio.customers.duplicates_list", page=number)

    return render_template("studio/customers/duplicates.html", page=page, page_url=page_url)


@bp.route("/merge/<int:survivor_id>/<int:merged_id>")
@staff_required(*CUSTOMER_STAFF)
def merge(survivor_id: int, merged_id: int) -> Any:
    """The preview (analysts too): what would move, what would stay, and the button."""
    try:
        plan = duplicates.plan(get_session(), survivor_id, merged_id)
    except duplicates.MergeRefused as error:
        flash(translate_error(error), "warning")
        return redirect(url_for("studio.customers.duplicates_list"), 303)
    audit.record_read(staff_audit.CUSTOMER_MERGE, users=[plan.survivor, plan.merged])
    form = MergeForm(formdata=None, fingerprint=plan.fingerprint)
    return render_template("studio/customers/merge.html", plan=plan, form=form)


@bp.route("/merge/<int:survivor_id>/<int:merged_id>/confirm", methods=["POST"])
@staff_required(*MERGERS)
def merge_confirm(survivor_id: int, merged_id: int) -> Any:
    """The merge, by customer service and admins, only as previewed; when it cannot be
    done, back to the preview with the reason."""
    form = MergeForm()
    back = url_for("studio.customers.merge", survivor_id=survivor_id, merged_id=merged_id)
    if not form.validate_on_submit():
        flash(gettext("The merge form was not complete. Look at the preview again."), "danger")
        return redirect(back, 303)
    try:
        with transaction() as t:
            record = duplicates.merge(t, survivor_id, merged_id, current_user,
                                      form.fingerprint.data, form.note.data or "")
    except NotFound:
        raise
    except (Conflict, duplicates.MergeRefused) as error:
        flash(translate_error(error), "danger")
        return redirect(back, 303)
    flash(gettext("Merged: %(merged)s is closed and everything it had is now with "
                  "%(survivor)s.", merged=record.merged_member_no,
                  survivor=record.survivor_member_no), "success")
    return redirect(url_for("studio.customers.show", user_id=survivor_id), 303)


@bp.route("/merges/<int:merge_id>")
@staff_required(*CUSTOMER_STAFF)
def merge_record(merge_id: int) -> Any:
    s = get_session()
    record = duplicates.get_merge(s, merge_id)
    survivor = s.get(User, record.survivor_user_id)
    merged = s.get(User, record.merged_user_id)
    staff = s.get(User, record.staff_user_id)
    audit.record_read(staff_audit.CUSTOMER_MERGE, users=[survivor, merged])
    return render_template("studio/customers/merge_record.html", record=record,
                           survivor=survivor, merged=merged, staff=staff)
