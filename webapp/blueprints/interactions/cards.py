"""What a page puts on its cards so the browser can report them (webapp/static/js/reco.js).

A page renders no log writes: each list of cards gets a `Slate` (its surface, a fresh request
id, the model version that ordered it, the child it is for), and each card carries it in
`data-reco-*` attributes with its item and position. Only signed-in viewers get them (only
their interactions are logged). Templates:

    {% set slate = reco_slate("product_list", child_id=child.id) %}
    <a … {{ reco_attrs(slate, item.id, loop.index0) }}>…</a>
    <a href="{{ buy_link(item) }}">Where to buy</a>
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from recommender import buy_links, tracking
from recommender.models import Surface


@dataclass(frozen=True)
class Slate:
    surface: str
    request_id: str
    model_version: str
    child_id: int | None = None


def reco_slate(surface: str, child_id: int | None = None,
               model_version: str = tracking.LIBRARY_ORDER,
               request_id: str | None = None) -> Slate | None:
    """A list of cards to report, for a signed-in viewer (None for visitors). The model
    side passes its own `model_version` and `request_id` when it ranked the list."""
    if surface not in tracking.CLIENT_SURFACES:
        raise ValueError(f"not a card surface: {surface!r}")
    if not current_user.is_authenticated:
        return None
    return Slate(surface, request_id or tracking.new_request_id(), model_version, child_id)


def reco_attrs(slate: Slate | None, item_id: int, position: int) -> Markup:
    """The card's data attributes (nothing for visitors)."""
    if slate is None:
        return Markup("")
    attrs: dict[str, Any] = {
        "data-reco-item": item_id, "data-reco-surface": slate.surface,
        "data-reco-position": position, "data-reco-model": slate.model_version,
        "data-reco-request": slate.request_id}
    if slate.child_id is not None:
        attrs["data-reco-child"] = slate.child_id
    # The names are ours; every value is escaped (Markup.format's formatter cost a child
    # page more than its three queries).
    return Markup(" ".join(f'{name}="{escape(value)}"' for name, value in attrs.items()))


def buy_link(item: Any, slate: Slate | None = None, position: int | None = None) -> str:
    """The tracked "where to buy" link of a product (its shop address stays on the server).
    Without a slate it counts on the product page's surface, the product list. The showing's
    request id rides beside the token (`?r=`), so a kept list of cards can be shown again
    under a new one (webapp/suggestion_blocks.py)."""
    token = buy_links.make_token(
        current_app.config["SECRET_KEY"], item.id,
        slate.surface if slate else Surface.PRODUCT_LIST.value, None, position,
        slate.model_version if slate else None, slate.child_id if slate else None)
    return url_for("interactions.go", token=token,
                   r=slate.request_id if slate else tracking.new_request_id())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(reco_slate=reco_slate, reco_attrs=reco_attrs,
                                 buy_link=buy_link)
