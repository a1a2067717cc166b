"""Suggested products as a fragment, loaded by the pages that show them (htmx, on load).

- `GET /children/<id>/suggestions?surface=child_page|product_list|article|inbox`: the
  suggestions for one of the signed-in person's children (any member of the family, viewers
  too: they are the person's own suggestions), up to SIZES[surface] cards; the fragment for
  htmx, a whole page for the <noscript> link. 404 for a child outside their families or an
  unknown surface. The pages themselves compute nothing (the child home stays fast); the
  cards carry data-reco-* attributes, so webapp/static/js/reco.js logs what is seen and done.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from content.stages import Stage, stage_of
from diary import families
from diary.models import Child
from recommender import present
from recommender.models import Surface
from webapp.database import get_session
from webapp.i18n import child_today, current_locale
from webapp.services import reco_model

bp = Blueprint("suggestions", __name__)


@bp.app_template_global()
def suggestion_child(stage: Stage | None = None) -> Child | None:
    """The signed-in parent's child a page's suggestions are for: the first one at `stage`
    (the product list's), else the first one with a stage; None for visitors, for staff and
    before pregnancy week 4. One query, only on the pages that ask."""
    if not current_user.is_authenticated:
        return None
    fallback = None
    for child in families.children_of(get_session(), current_user):
        at = stage_of(child, child_today(child))
        if at is None:
            continue
        if stage is None or at == stage:
            return child
        fallback = fallback or child
    return fallback

#: How many cards each surface shows.
SIZES = {Surface.CHILD_PAGE.value: 6, Surface.PRODUCT_LIST.value: 4,
         Surface.ARTICLE.value: 3, Surface.INBOX.value: 3}


@bp.route("/children/<int:child_id>/suggestions")
@login_required
def child_suggestions(child_id: int) -> Any:
    surface = request.args.get("surface", Surface.CHILD_PAGE.value)
    if surface not in SIZES:
        abort(404)
    s = get_session()
    child, _ = families.child_access(s, current_user, child_id)
    slate = present.cards(s, reco_model(), current_user, child, child_today(child),
                          current_locale(), SIZES[surface], surface,
                          current_app.config["RECO_CONTROL_SHARE"])
    template = ("suggestions/_block.html" if request.headers.get("HX-Request")
                else "suggestions/page.html")
    response = current_app.make_response(render_template(
        template, child=child, slate=slate, surface=surface))
    response.headers["Cache-Control"] = "private, no-store"  # they change with every action
    return response
