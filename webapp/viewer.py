"""What every page shows about the signed-in viewer, looked up once per request.

The page frame, the timeline's cards and the page cache all ask for these; `g` keeps the
answer for the rest of the request.
"""
from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user

from journeys import inbox
from webapp.database import get_session
from webapp.i18n import current_locale


def language_and_units() -> tuple[str, str]:
    if "viewer_language_units" not in g:
        g.viewer_language_units = (current_locale(),
                                   getattr(current_user, "unit_system", "metric"))
    return g.viewer_language_units


def remember_unread(count: int) -> None:
    """A view that counted the viewer's unread messages anyway (the child home, with its
    headlines) hands the count over: the header asks no second time."""
    g.viewer_unread = count


def inbox_unread() -> int:
    """The header's unread badge: parents only (staff have no inbox)."""
    if "viewer_unread" not in g:
        viewer = current_user if has_request_context() else None  # emails render without one
        g.viewer_unread = (inbox.unread_count(get_session(), viewer)
                           if viewer is not None and viewer.is_authenticated
                           and not viewer.is_staff else 0)
    return g.viewer_unread
