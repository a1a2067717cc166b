"""`POST /api/shop/order-lines`: order lines from the brand's shop.

Authenticated by the integration's key (`Authorization: Bearer <key>`; made with
`flask reco shop-integration create NAME`, stored only as a hash). Body:
`{"lines": [{"order_line_id", "ordered_at", "email" or "member_no", "sku", "quantity",
"amount_minor", "currency"}, …]}`, at most `purchases.MAX_LINES`. All-or-nothing: a batch
with an invalid line is refused (400, every problem listed with its index) and nothing is
recorded; a valid batch answers 200 with the counts (`received`, `recorded`, `duplicates`,
`unmatched`, `invalid`) and the unmatched order line ids. Re-sending a batch is harmless:
lines are idempotent by order line id. No CSRF token (no browser, no cookie): the key is
the proof.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext

from recommender import purchases
from webapp.database import transaction
from webapp.extensions import csrf
from webapp.i18n import translate_error
from webapp.rate_limits import limit, per_client

bp = Blueprint("shop", __name__)

#: A thousand order lines are a few hundred kilobytes.
MAX_BODY = 2 * 1024 * 1024


def _unauthorised() -> Any:
    response = jsonify(error=gettext("Send the integration's key: Authorization: Bearer "
                                     "<key>."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="shop"'
    return response, 401


@bp.route("/api/shop/order-lines", methods=["POST"])
@csrf.exempt  # a server-to-server call: the integration's key is the proof
@limit("SHOP_API_RATE_LIMIT", key=per_client)
def order_lines() -> Any:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return _unauthorised()
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error=gettext("Send at most %(num)d order lines at a time.",
                                     num=purchases.MAX_LINES)), 413
    with transaction() as s:
        integration = purchases.integration_for_key(s, key.strip())
        if integration is None:
            return _unauthorised()
        payload = request.get_json(silent=True)
        raw = payload.get("lines") if isinstance(payload, dict) else None
        if not isinstance(raw, list) or not raw:
            return jsonify(error=gettext("Send a JSON object with a list of order lines: "
                                         "{\"lines\": [...]}.")), 400
        if len(raw) > purchases.MAX_LINES:
            return jsonify(error=gettext("Send at most %(num)d order lines at a time.",
                                         num=purchases.MAX_LINES)), 413
        lines, problems = purchases.parse_lines(enumerate(raw))
        if problems:
            s.rollback()  # nothing recorded, not even the key's last use
            return jsonify(
                error=gettext("Nothing was recorded: %(num)d order lines are not valid.",
                              num=len(problems)),
                invalid=[{"index": p.number, "order_line_id": p.order_line_id,
                          "error": translate_error(p.error)} for p in problems[:100]]), 400
        report = purchases.record_lines(s, lines, f"api:{integration.name}")
    return jsonify(**report.counts(),
                   unmatched_lines=[{"order_line_id": u.order_line_id, "reason": u.reason}
                                    for u in report.unmatched])
