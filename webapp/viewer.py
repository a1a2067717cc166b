"""What every page shows about the signed-in viewer, looked up once per request.

The page frame, the timeline's cards and the page cache all ask for these; `g` keeps the
answer for the rest of the request.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_request_context
from flask_login import current_user

from care import surveys
from clock import utcnow
from db.one_trip import Part
from journeys import inbox
from webapp.blueprints.surveys.routes import link_life
from webapp.database import get_session
from webapp.i18n import current_locale


def language_and_units() -> tuple[str, str]:
    if "viewer_language_units" not in g:
        g.viewer_language_units = (current_locale(),
                                   getattr(current_user, "unit_system", "metric"))
    return g.viewer_language_units


def open_surveys(now: datetime) -> inbox.Also:
    """What the badge counts beside the unread messages: the open satisfaction surveys the
    inbox shows at the top (care, which journeys may not import), for journeys' count to add
    in its one statement. Give it to every count the header shows (`inbox.unread_count`,
    `inbox.headlines_and_unread`)."""
    return surveys.OPEN_COUNT, {"offered_after": now - link_life()}


def remember_unread(count: int) -> None:
    """A view that counted the viewer's unread messages anyway (the child home, with its
    headlines, and `open_surveys`) hands the count over: the header asks no second time."""
    g.viewer_unread = count


def _has_inbox(viewer: Any) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and not viewer.is_staff)


def unread_part(now: datetime) -> Part | None:
    """The header badge's count as a `db.one_trip` part, for a view that sends other reads
    anyway; None when the viewer has no inbox. Hand its one row's first value to
    `remember_unread`."""
    if not _has_inbox(current_user):
        return None
    return inbox.unread_query(current_user, now, also=open_surveys(now))


def inbox_unread() -> int:
    """The header's unread badge: unread messages plus open surveys, one statement; parents
    only (staff have no inbox)."""
    if "viewer_unread" not in g:
        viewer = current_user if has_request_context() else None  # emails render without one
        if _has_inbox(viewer):
            now = utcnow()
            g.viewer_unread = inbox.unread_count(get_session(), viewer, now,
                                                 also=open_surveys(now))
        else:
            g.viewer_unread = 0
    return g.viewer_unread
