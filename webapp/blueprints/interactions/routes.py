"""The cards' log endpoint and the tracked "where to buy" redirect.

- `POST /api/interactions` (signed in, CSRF token in the X-CSRFToken header, rate-limited
  per account): `{"events": [...]}` from webapp/static/js/reco.js — impressions of cards in
  view, clicks, saves, dismisses. 200 `{"logged": n, "received": m}`; 400/404/413 with
  `{"error": reason}`; 401 for visitors. One short transaction (`recommender.tracking`).
- `GET /go/<token>`: logs one click for the signed-in person and redirects to the product's
  stored shop address (`recommender.buy_links`); HEAD redirects without logging.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request
from flask_babel import gettext
from flask_login import current_user

from clock import utcnow
from diary.errors import DiaryError, NotFound
from recommender import buy_links, tracking
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.i18n import translate_error
from webapp.rate_limits import limit, per_account

bp = Blueprint("interactions", __name__)

#: A batch of at most `tracking.MAX_EVENTS` events is a few kilobytes.
MAX_BODY = 64 * 1024


@bp.route("/api/interactions", methods=["POST"])
@limit("INTERACTIONS_RATE_LIMIT", key=per_account)
def log_events() -> Any:
    if not current_user.is_authenticated:
        return jsonify(error=gettext("Please sign in.")), 401
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error=gettext("Too many events in one request.")), 413
    try:
        events = tracking.parse_events(request.get_json(silent=True))
        with transaction() as s:
            logged = tracking.log_events(s, current_user, events)
    except NotFound as error:
        return jsonify(error=translate_error(error)), 404
    except DiaryError as error:
        return jsonify(error=translate_error(error)), 400
    return jsonify(logged=logged, received=len(events))


@bp.route("/go/<token>")
def go(token: str) -> Any:
    try:
        click = buy_links.read_token(current_app.config["SECRET_KEY"], token)
    except buy_links.BadBuyLink:
        return render_error(404, gettext("This link is not valid."))
    url = buy_links.destination(get_session(), click.item_id)
    if url is None:
        return render_error(404, gettext("This product is no longer in our shop."))
    # A HEAD (link checkers, previews) is never a click, and visitors are not logged.
    if request.method == "GET" and current_user.is_authenticated:
        with transaction() as s:
            buy_links.record(s, current_user, click, utcnow())
    response = redirect(url, 302)
    response.headers["Cache-Control"] = "no-store"  # each visit reaches us, not a cache
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
