"""A child's suggestions, rendered once and shown many times.

A parent opens the child's page many times a day, and between two visits nothing that the
suggestions depend on usually changes. So the rendered block is kept per process, keyed on
everything it depends on — the person (and their "personalise" choice, and so whether they
see the control), the child (name, dates, and `Child.signals_version`, which goes up with
every measurement and every click, save, dismiss or purchase in the family), the family's
local day (the stage), the language, the surface, the model version and the newest content
change — and for at most BLOCK_TTL (products scheduled to go live appear within it). The
first visit after any of those changes ranks again; the others cost a dictionary look-up.

Each showing is still its own list: a fresh request id and a signed slate token
(`recommender.impressions`) go into the kept HTML in place of two markers, so impressions
and clicks are counted per showing, never merged across visits.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_login import current_user
from markupsafe import Markup

from content.library import content_generation
from diary.models import Child, User
from recommender import impressions, present, tracking
from recommender.models import Surface
from recommender.train import Model
from webapp.blueprints.interactions.cards import Slate
from webapp.database import get_session
from webapp.i18n import child_today, current_locale
from webapp.services import reco_model

#: Placeholders in the kept HTML, replaced on every showing (neither can occur in text we
#: render: every value in the block is escaped, and these contain no character escaping
#: would change — but none of our words or product texts contain them either).
REQUEST_MARK = "reco-request-mark-0"
TOKEN_MARK = "reco-token-mark-0"
BLOCK_TTL = 300.0  # seconds
MAX_BLOCKS = 20_000  # about 5 kB each


#: How many cards each surface shows.
SIZES = {Surface.CHILD_PAGE.value: 6, Surface.PRODUCT_LIST.value: 4,
         Surface.ARTICLE.value: 3, Surface.INBOX.value: 3}


@dataclass(frozen=True)
class _Kept:
    html: str
    expires: float
    #: The list's part of its slate tokens (`impressions.slate_part`); None: an empty list,
    #: nothing to report.
    slate_part: str | None


_blocks: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()
_lock = threading.Lock()


def forget() -> None:
    """Drop every kept block (tests: ids repeat between rolled-back tests)."""
    with _lock:
        _blocks.clear()


def _key(user: User, child: Child, surface: str, k: int, mode: str, locale: str,
         model_version: str | None, generation: Any) -> tuple[Any, ...]:
    return (user.id, mode, child.id, child.signals_version, child.name, child.birth_date,
            child.due_date, child.sex, child_today(child), locale, surface, k, model_version,
            generation)


def shown_suggestions(child: Child, surface: str) -> Markup | None:
    """The suggestions section a page shows inline for the signed-in person (None when
    the operator switched the surface off in RECO_SURFACES)."""
    if surface not in current_app.config["RECO_SURFACES"]:
        return None
    return suggestion_block(child, current_user, surface, SIZES[surface])


def suggestion_block(child: Child, user: User, surface: str, k: int) -> Markup:
    """The suggestions section for `child` as `user` sees it on `surface`."""
    s = get_session()
    share = current_app.config["RECO_CONTROL_SHARE"]
    mode = present.mode_for(user, child.family_id, share)
    model = reco_model()
    locale = current_locale()
    generation = content_generation(s)
    key = _key(user, child, surface, k, mode, locale,
               model.version if model is not None else None, generation)
    now = time.monotonic()
    kept = _blocks.get(key)
    if kept is None or kept.expires <= now:
        kept = _render(child, user, surface, k, locale, model, share, now)
        with _lock:
            _blocks[key] = kept
            _blocks.move_to_end(key)
            while len(_blocks) > MAX_BLOCKS:
                _blocks.popitem(last=False)
    return _show(kept)


def _render(child: Child, user: User, surface: str, k: int, locale: str,
            model: Model | None, share: float, now: float) -> _Kept:
    today = child_today(child)
    slate = present.cards(get_session(), model, user, child, today, locale, k, surface, share)
    shown = present.showing(slate, user, child, today, surface, REQUEST_MARK)
    marks = Slate(surface, REQUEST_MARK, slate.model_version, child.id)
    html = render_template("suggestions/_block.html", child=child, slate=slate,
                           surface=surface, rs=marks, slate_token=TOKEN_MARK)
    return _Kept(html, now + BLOCK_TTL,
                 impressions.slate_part(shown) if shown is not None else None)


def _show(kept: _Kept) -> Markup:
    if kept.slate_part is None:
        return Markup(kept.html)  # nosec: rendered by our autoescaping template
    request_id = tracking.new_request_id()
    token = impressions.sign_showing(current_app.config["SECRET_KEY"], kept.slate_part,
                                     request_id)
    html = kept.html.replace(REQUEST_MARK, request_id).replace(TOKEN_MARK, token)
    return Markup(html)  # nosec: our template's output; the marks become URL-safe text
