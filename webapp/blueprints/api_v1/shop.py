"""`POST /api/v1/shop/orders`: order lines from the brand's shop, the same call as
`POST /api/shop/order-lines` (webapp/blueprints/shop: one `receive`, one transaction,
all-or-nothing, idempotent by order line id), authenticated by the shop integration's key
(`flask reco shop-integration create NAME`), not by a personal access token."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from recommender import purchases
from webapp.blueprints.api_v1.errors import ApiError
from webapp.blueprints.api_v1.framework import SECURITY_SCHEMES, Call, endpoint
from webapp.blueprints.shop.routes import Refused, receive

TAG = "Shop"
SHOP_KEY = "shopIntegrationKey"
SECURITY_SCHEMES[SHOP_KEY] = {
    "type": "http", "scheme": "bearer",
    "description": "The shop integration's key (`flask reco shop-integration create NAME`), "
                   "not a personal access token: `Authorization: Bearer <key>`."}


class OrderLineIn(BaseModel):
    order_line_id: str = Field(description="The shop's id of the line: a line sent again "
                                           "counts once.")
    ordered_at: datetime
    email: str | None = Field(None, description="The customer's email, or member_no.")
    member_no: str | None = None
    sku: str
    quantity: int
    amount_minor: int = Field(description="The line's amount in minor units (fen, cents).")
    currency: str


class OrdersIn(BaseModel):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=purchases.MAX_LINES)


class UnmatchedLine(BaseModel):
    order_line_id: str
    reason: str


class OrdersOut(BaseModel):
    received: int
    recorded: int
    duplicates: int
    unmatched: int
    invalid: int
    unmatched_lines: list[UnmatchedLine]


@endpoint("POST", "/shop/orders", tag=TAG, summary="Send order lines from the shop",
          auth=False, security=SHOP_KEY, body=OrdersIn, raw_body=True, response=OrdersOut,
          errors=(413,), rate_limit="SHOP_API_RATE_LIMIT")
def shop_orders(call: Call) -> OrdersOut:
    """All or nothing: a batch with an invalid line records nothing (422, each problem in
    `fields` by its index). The body is checked by the shop's own rules (the same as
    /api/shop/order-lines). Limited by the shop's own budget (SHOP_API_RATE_LIMIT by the shop's
    address, as the old path is), not by the API's per-token one."""
    try:
        report: dict[str, Any] = receive()
    except Refused as refused:
        # Lines that are not valid are a validation error (422, by index); a body that
        # is no batch at all stays a 400.
        status = 422 if refused.invalid else refused.status
        raise ApiError(status, message=refused.message,
                       fields={f"lines.{p['index']}": str(p["error"])
                               for p in refused.invalid} or None) from None
    return OrdersOut.model_validate(report)
