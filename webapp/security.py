"""Sign-in wiring, safe redirects, role checks and security headers."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, abort, request, url_for
from flask_login import current_user, login_required

from clock import utcnow
from diary.models import User
from webapp.database import get_session, transaction
from webapp.extensions import login_manager

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
       "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
       "form-action 'self'")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.after_request(_security_headers)
    app.before_request(_note_visit)


SEEN_EVERY = timedelta(hours=1)


def _note_visit() -> None:
    """Remember when a parent last came (for "we miss you"), at most once an hour."""
    if not current_user.is_authenticated or request.endpoint == "static":
        return
    now = utcnow()
    if current_user.last_seen_at is None or now - current_user.last_seen_at > SEEN_EVERY:
        with transaction():
            current_user.last_seen_at = now


@login_manager.user_loader
def _load_user(raw_id: str) -> User | None:
    user_id, _, stamp = raw_id.partition(":")
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active or user.security_stamp != stamp:
        return None
    return user


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def safe_next(target: str | None, default_endpoint: str = "diary.dashboard") -> str:
    """Only same-site relative paths: never an open redirect to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for(default_endpoint)


def staff_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Staff pages: 404 for parents (nothing to see), 403 for staff of another role."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_staff:
                abort(404)
            if roles and current_user.staff_role not in roles and \
                    current_user.staff_role != "admin":
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
