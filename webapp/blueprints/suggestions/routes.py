"""Suggested products as a fragment, loaded by the pages that show them (htmx, on load).

- `GET /children/<id>/suggestions?surface=child_page|product_list|article|inbox`: the
  suggestions for one of the signed-in person's children (any member of the family, viewers
  too: they are the person's own suggestions), up to SIZES[surface] cards; the fragment for
  htmx, a whole page for the <noscript> link. 404 for a child outside their families or an
  unknown surface (or one switched off in RECO_SURFACES). The child page shows its own
  inline (`suggestion_blocks.shown_suggestions`); both come from the kept blocks of
  webapp/suggestion_blocks.py. The cards carry data-reco-* attributes, so
  webapp/static/js/reco.js logs what is seen and done.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from content.stages import Stage, stage_of
from diary import families
from diary.models import Child
from webapp.database import get_session
from webapp.i18n import child_today
from webapp.suggestion_blocks import SIZES, suggestion_block

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


@bp.route("/children/<int:child_id>/suggestions")
@login_required
def child_suggestions(child_id: int) -> Any:
    surface = request.args.get("surface", "child_page")
    if surface not in SIZES or surface not in current_app.config["RECO_SURFACES"]:
        abort(404)
    child, _ = families.child_access(get_session(), current_user, child_id)
    block = suggestion_block(child, current_user, surface, SIZES[surface])
    response = current_app.make_response(
        block if request.headers.get("HX-Request")
        else render_template("suggestions/page.html", child=child, block=block))
    response.headers["Cache-Control"] = "private, no-store"  # they change with every action
    return response
