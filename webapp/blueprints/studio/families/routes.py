"""One family as staff see it: the look-up, then a member's families with each child's
journeys and deliveries. Read-only, for marketers, reviewers and analysts; every look-up
and every family shown is recorded in the staff access log (`webapp.audit.record_read`)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext

from clock import utcnow
from diary import staff_audit
from diary.errors import NotFound
from diary.models import User
from journeys import authoring
from webapp import audit
from webapp.blueprints.studio import READERS
from webapp.blueprints.studio.families.forms import FamilySearchForm
from webapp.blueprints.studio.journeys.forms import CHANNEL_CHOICES
from webapp.content_format import window_text
from webapp.database import get_session
from webapp.i18n import INTEREST_NAMES, current_locale
from webapp.security import staff_required

bp = Blueprint("families", __name__)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return dict(window_text=window_text, INTEREST_NAMES=INTEREST_NAMES,
                CHANNEL_NAMES=dict(CHANNEL_CHOICES))


@bp.route("", methods=["GET", "POST"])
@staff_required(*READERS)
def index() -> Any:
    """The look-up form. A look-up is a POST (the address never appears in a URL) and is
    recorded; a found member's page has their id in its URL. GET shows the empty form, even
    with an old `?q=` link."""
    form = FamilySearchForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "POST" and form.validate_on_submit():
        query = (form.q.data or "").strip()
        kind = staff_audit.search_kind(query)
        if kind is None:
            form.q.errors = list(form.q.errors) + [gettext(
                "Type a member number (BJ followed by 8 digits) or an email address.")]
        else:
            member = authoring.find_member(get_session(), query)
            audit.record_read(staff_audit.FAMILY_LOOKUP, users=[member], kind=kind,
                              term=query)
            if member is not None:
                return redirect(url_for("studio.families.member", user_id=member.id), 303)
            form.q.errors = list(form.q.errors) + [gettext(
                "No member has that number or email. Member numbers look like BJ12345678.")]
    return render_template("studio/families/index.html", form=form, member=None, found=[])


@bp.route("/members/<int:user_id>")
@staff_required(*READERS)
def member(user_id: int) -> Any:
    """A member's families: caregivers, children, journeys and deliveries (recorded)."""
    s = get_session()
    member = s.get(User, user_id)
    if member is None:
        raise NotFound()
    now = utcnow()
    found: list[Any] = []
    for family in authoring.member_families(s, member):
        found.append((family, [authoring.family_journey(s, child, now, locale=current_locale())
                               for child in family.children]))
    shown = [member] + [m.user for family, _ in found for m in family.memberships] + \
        [d.recipient for _, journeys in found for fj in journeys for d in fj.deliveries]
    audit.record_read(staff_audit.FAMILY_JOURNEY, users=shown,
                      families=[family for family, _ in found])
    return render_template("studio/families/index.html", form=FamilySearchForm(formdata=None),
                           member=member, found=found)
