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

The same call is documented in the JSON API as `POST /api/v1/shop/orders`
(webapp/blueprints/api_v1/shop.py): both run `receive`, and each writes its refusals in its
own error shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Refused(Exception):
    """Why a batch was not taken: the status, the message, and the invalid lines (400)."""

    status: int
    message: str
    invalid: list[dict[str, Any]] = field(default_factory=list)


def _key() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _unauthorised() -> Refused:
    return Refused(401, gettext("Send the integration's key: Authorization: Bearer <key>."))


def receive() -> dict[str, Any]:
    """Check the request's key and body and record its lines, in one transaction; the
    counts and the unmatched lines, else `Refused` (nothing recorded)."""
    key = _key()
    if not key:
        raise _unauthorised()
    too_many = gettext("Send at most %(num)d order lines at a time.", num=purchases.MAX_LINES)
    if (request.content_length or 0) > MAX_BODY:
        raise Refused(413, too_many)
    with transaction() as s:
        integration = purchases.integration_for_key(s, key)
        if integration is None:
            raise _unauthorised()
        payload = request.get_json(silent=True)
        raw = payload.get("lines") if isinstance(payload, dict) else None
        if not isinstance(raw, list) or not raw:
            raise Refused(400, gettext("Send a JSON object with a list of order lines: "
                                       "{\"lines\": [...]}."))
        if len(raw) > purchases.MAX_LINES:
            raise Refused(413, too_many)
        lines, problems = purchases.parse_lines(enumerate(raw))
        if problems:
            s.rollback()  # nothing recorded, not even the key's last use
            raise Refused(400, gettext("Nothing was recorded: %(num)d order lines are not "
                                       "valid.", num=len(problems)),
                          [{"index": p.number, "order_line_id": p.order_line_id,
                            "error": translate_error(p.error)} for p in problems[:100]])
        report = purchases.record_lines(s, lines, f"api:{integration.name}")
    return {**report.counts(),
            "unmatched_lines": [{"order_line_id": u.order_line_id, "reason": u.reason}
                                for u in report.unmatched]}


@bp.route("/api/shop/order-lines", methods=["POST"])
@csrf.exempt  # a server-to-server call: the integration's key is the proof
@limit("SHOP_API_RATE_LIMIT", key=per_client)
def order_lines() -> Any:
    try:
        return jsonify(receive())
    except Refused as refused:
        extra = {"invalid": refused.invalid} if refused.invalid else {}
        response = jsonify(error=refused.message, **extra)
        if refused.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="shop"'
        return response, refused.status
