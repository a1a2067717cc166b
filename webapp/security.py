"""Sign-in wiring, safe redirects, role checks and security headers."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from clock import utcnow
from diary import sessions
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
#: Requests that are not visits: files, the batched impression reports (which name their
#: person in a signed token and must not pay for loading the session's user), and the load
#: balancer's health and readiness checks (which must stay cheap and never load a user).
QUIET_ENDPOINTS = frozenset({"static", "interactions.log_impressions", "main.healthz",
                             "main.readyz"})
SESSION_KEY = "sk"  # the cookie's half of the server-side session (diary.sessions)


def _session_life(remember: bool) -> timedelta:
    return sessions.lifetime(remember, current_app.config["SESSION_HOURS"],
                             current_app.config["REMEMBER_DAYS"])


def _note_visit() -> None:
    """Remember when a parent last came (for "we miss you") and move the session's end
    forward, at most once an hour (one small write, not one per request)."""
    if request.endpoint in QUIET_ENDPOINTS or not current_user.is_authenticated:
        return
    now = utcnow()
    row = g.get("user_session")
    seen = current_user.last_seen_at is None or now - current_user.last_seen_at > SEEN_EVERY
    touch = row is not None and sessions.needs_touch(row, now)
    if seen or touch:
        with transaction():
            if seen:
                current_user.last_seen_at = now
            if touch:
                sessions.touch(row, now, _session_life(row.remember))


@login_manager.user_loader
def _load_user(raw_id: str) -> User | None:
    """The signed-in user, only while their server-side session lives (a copied cookie of a
    signed-out or expired session loads nobody) and their security stamp is current."""
    user_id, _, stamp = raw_id.partition(":")
    key = session.get(SESSION_KEY)
    if not user_id.isdigit() or not isinstance(key, str):
        return None
    found = sessions.user_for(get_session(), int(user_id), key, utcnow())
    if found is None:
        return None
    user, row = found
    if not user.is_active or user.security_stamp != stamp:
        return None
    g.user_session = row
    g.viewer_locale = user.locale  # for a page rendered without the database (errors)
    return user


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session: everything the browser's session held before is dropped (the
    CSRF token included), and a new server-side session is recorded."""
    session.clear()
    with transaction() as s:
        key = sessions.start(s, user, utcnow(), remember=remember,
                             life=_session_life(remember),
                             user_agent=request.user_agent.string if request else None)
    session[SESSION_KEY] = key
    session.permanent = remember
    login_user(user, remember=False)


def refresh_sign_in(user: User) -> None:
    """The user's privileges changed (a new password, joining a family): keep this browser
    signed in, in a new session with a new CSRF token (the old key is ended), as at sign-in:
    a cookie or token copied before the change is worth nothing after it."""
    key = session.get(SESSION_KEY)
    remember = bool(session.permanent)
    if isinstance(key, str):
        with transaction() as s:
            sessions.end(s, key, utcnow())
    sign_in(user, remember=remember)


def sign_out() -> None:
    """End this session on the server too, then forget it in the browser."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        with transaction() as s:
            sessions.end(s, key, utcnow())
    logout_user()
    session.clear()


def current_session_key() -> str | None:
    key = session.get(SESSION_KEY)
    return key if isinstance(key, str) else None


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    hsts = current_app.config.get("HSTS_SECONDS") or 0
    if hsts:
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={int(hsts)}; includeSubDomains")
    if request.endpoint not in QUIET_ENDPOINTS and "Cache-Control" not in response.headers \
            and current_user.is_authenticated:
        # A signed-in page is nobody else's: no shared cache or back-button copy keeps it.
        # (Views that chose a policy keep it: a family's photos are "private" for a day.)
        response.headers["Cache-Control"] = "no-store"
        response.headers.add("Vary", "Cookie")
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


_BROWSERS = (("Edg/", "Edge"), ("MicroMessenger", "WeChat"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))


def describe_device(user_agent: str | None) -> str | None:
    """'Chrome on Android' from a browser's User-Agent, or None when it says nothing we know
    (the account page lists where someone is signed in, in words a parent recognises)."""
    ua = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in ua), None)
    system = next((name for mark, name in _SYSTEMS if mark in ua), None)
    if browser and system:
        return f"{browser} · {system}"
    return browser or system
