"""The cards' log endpoint and the tracked "where to buy" redirect.

- `POST /api/interactions` (signed in, CSRF token in the X-CSRFToken header, rate-limited
  per account): `{"events": [...]}` from webapp/static/js/reco.js — impressions of cards in
  view, clicks, saves, dismisses. 200 `{"logged": n, "received": m}`; 400/404/413 with
  `{"error": reason}`; 401 for visitors. One short transaction (`recommender.tracking`).
- `POST /api/impressions` (`{"slates": [{"token": …, "seen": [positions]}, …]}`, from
  reco.js in batches): impressions of suggestion lists, each named by the signed slate token
  its page rendered (`recommender.impressions`). The token is the proof of who saw what, so
  the call needs no session and no CSRF token, and does no look-up of families; the batch is
  stored as one row and the scheduler's "impressions" job logs it (`impressions.drain`), so
  reporting never costs a page its speed. 200 `{"accepted": n, "received": m}` (n
  impressions kept for the log, m lists); 400 with the reason for a malformed batch; an
  altered or expired token is skipped, not an error.
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
from recommender import buy_links, impressions, tracking
from webapp.database import get_session, transaction
from webapp.errors import render_error
from webapp.extensions import csrf
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


#: A batch names at most this many lists (reco.js sends when it holds about forty cards).
MAX_SLATES = 20


def _seen_batches(payload: Any) -> list[tuple[str, list[int]]] | None:
    """[(token, positions)] from the body, or None when it is not a batch."""
    slates = payload.get("slates") if isinstance(payload, dict) else None
    if not isinstance(slates, list) or not 1 <= len(slates) <= MAX_SLATES:
        return None
    batches = []
    for slate in slates:
        seen = slate.get("seen") if isinstance(slate, dict) else None
        if not isinstance(seen, list) or not 1 <= len(seen) <= impressions.MAX_ITEMS or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in seen):
            return None
        batches.append((slate.get("token"), seen))
    return batches


@bp.route("/api/impressions", methods=["POST"])
@csrf.exempt  # the signed slate token is the proof of who was shown what
def log_impressions() -> Any:
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error=gettext("Too many events in one request.")), 413
    batches = _seen_batches(request.get_json(silent=True))
    if batches is None:
        return jsonify(error=gettext(
            "Send a JSON object with a list of 1 to %(max)d slates, each with its token and "
            "the positions seen.", max=MAX_SLATES)), 400
    secret = current_app.config["SECRET_KEY"]
    seen = []
    for token, positions in batches:
        try:
            seen.append((impressions.read_token(secret, token), positions))
        except impressions.BadSlate:
            continue  # an old page's or an altered list: nothing to log, nothing to retry
    accepted = 0
    if seen:
        with transaction() as s:
            accepted = impressions.queue_seen(s, seen, utcnow())
    response = jsonify(accepted=accepted, received=len(batches))
    response.headers["Cache-Control"] = "no-store"  # and no need to look up who is signed in
    return response


@bp.route("/go/<token>")
def go(token: str) -> Any:
    try:
        click = buy_links.read_token(current_app.config["SECRET_KEY"], token,
                                     request_id=request.args.get("r"))
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
