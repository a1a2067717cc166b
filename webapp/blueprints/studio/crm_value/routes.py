"""The CRM's value pages for analysts (`/studio/crm/…`): value tiers with their strategies,
the most-valuable / most-growable / below-zero grouping, the R × F grid and the top customers
by CLV, from the nightly scores (`crm.value`); and the due list of children entering a new
stage or nappy size in the next 14 days, with its follow-up status (`crm.due`).

Value: analysts (and admins). Due list: analysts and marketers, who also set the follow-up
status; other staff 403, parents 404. Both pages show customers, so each view is recorded in
the staff access log before it is shown (`webapp.audit.record_read`).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from clock import utcnow
from crm import due, value
from crm.rfm import CURRENCY
from crm.vocabulary import (
    DUE_KIND_LABELS,
    DUE_KINDS,
    FOLLOW_UP_LABELS,
    GROUP_LABELS,
    GROUP_RULES,
    TIER_LABELS,
    TIER_STRATEGIES,
)
from diary import staff_audit
from diary.accounts import users_by_id
from diary.errors import ValidationError
from webapp import audit
from webapp.blueprints.studio.crm_value.forms import DueStatusForm
from webapp.database import get_session, transaction
from webapp.i18n import translate_error
from webapp.security import staff_required

bp = Blueprint("crm_value", __name__)

VALUE_ROLES = ("analyst",)  # admins pass every check
DUE_ROLES = ("analyst", "marketer")
PAGE_SIZE = 50


@bp.context_processor
def _words() -> dict[str, Any]:
    return dict(TIER_LABELS=TIER_LABELS, TIER_STRATEGIES=TIER_STRATEGIES,
                GROUP_LABELS=GROUP_LABELS, GROUP_RULES=GROUP_RULES,
                DUE_KIND_LABELS=DUE_KIND_LABELS, FOLLOW_UP_LABELS=FOLLOW_UP_LABELS,
                CURRENCY=CURRENCY)


@bp.route("/value")
@staff_required(*VALUE_ROLES)
def value_page() -> Any:
    found = value.overview(get_session())
    audit.record_read(staff_audit.CRM_VALUE, users=[t.user for t in found.top])
    return render_template("studio/crm/value.html", o=found)


def _kind(raw: str | None) -> str | None:
    return raw if raw in DUE_KINDS else None


def _page(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) <= 6 else 1


@bp.route("/due")
@staff_required(*DUE_ROLES)
def due_page() -> Any:
    session = get_session()
    kind = _kind(request.args.get("kind"))
    rows = due.due_list(session, utcnow(), kind=kind)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(_page(request.args.get("page")), pages)
    shown = rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    people = users_by_id(session, {d.user_id for d in shown})
    audit.record_read(staff_audit.CRM_DUE, users=list(people.values()))
    forms = [DueStatusForm(formdata=None, user_id=d.user_id, child_id=d.child_id, kind=d.kind,
                           due_on=d.due_on, status=d.status) for d in shown]

    def page_url(n: int) -> str:
        return url_for("studio.crm_value.due_page", kind=kind, page=n if n > 1 else None)

    return render_template("studio/crm/due.html", rows=list(zip(shown, forms, strict=True)),
                           total=len(rows), kind=kind, number=number, pages=pages,
                           page_url=page_url, window=due.WINDOW_DAYS)


@bp.route("/due/status", methods=["POST"])
@staff_required(*DUE_ROLES)
def due_status() -> Any:
    form = DueStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction() as session:
            due.set_status(session, current_user, form.user_id.data, form.child_id.data,
                           form.kind.data, form.due_on.data, form.status.data, utcnow())
    except ValidationError as error:
        flash(translate_error(error), "danger")
    else:
        flash(gettext("Follow-up saved: %(status)s.",
                      status=gettext(FOLLOW_UP_LABELS[form.status.data])), "success")
    kind = _kind(request.form.get("back_kind"))
    page = _page(request.form.get("back_page"))
    return redirect(url_for("studio.crm_value.due_page", kind=kind,
                            page=page if page > 1 else None), 303)
