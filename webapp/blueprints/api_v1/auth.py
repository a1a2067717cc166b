"""Who is calling /api/v1: a personal access token (`Authorization: Bearer <token>`) or,
for same-site calls from the site's own pages, the signed-in web session.

A request that sends an Authorization header is judged by it alone (a bad token is a 401
even with a session cookie). Token calls need no CSRF token (no cookie is involved); session
calls that change something (POST, PUT, PATCH, DELETE) must send the page's CSRF token in the
`X-CSRFToken` header. Rate limits count per token (or per signed-in person, or per address
for anonymous calls), with API_RATE_LIMIT.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from diary import access_tokens
from diary.models import AccessToken, User
from webapp.blueprints.api_v1.errors import ApiError
from webapp.database import transaction
from webapp.extensions import csrf
from webapp.rate_limits import per_client

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Caller:
    user: User
    #: None for the web session (which may do whatever the person's family role allows).
    token: AccessToken | None


def caller() -> Caller | None:
    """The request's caller, resolved once (the rate limiter asks before the view does)."""
    if "api_caller" not in g:
        g.api_caller = _resolve()
    return g.api_caller


def _resolve() -> Caller | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        with transaction() as s:  # notes the token's last use
            token = access_tokens.verify(s, secret.strip())
            return Caller(token.user, token) if token is not None else None
    if current_user.is_authenticated:
        return Caller(current_user._get_current_object(), None)
    return None


def per_api_caller() -> str:
    """The rate-limit key: the token, else the signed-in person, else the address."""
    who = caller()
    if who is not None and who.token is not None:
        return f"token:{who.token.id}"
    if who is not None:
        return f"user:{who.user.id}"
    return per_client()


def require(scope: str) -> Caller:
    """The caller, allowed `scope` ("read" or "write"); else an ApiError (401/403)."""
    who = caller()
    if who is None:
        raise ApiError(401)
    if not access_tokens.allows(who.token, scope):
        raise ApiError(403, "insufficient_scope",
                       f"This token's scope is {who.token.scope if who.token else ''!s}; "
                       f"this call needs {scope}.")
    if who.token is None and request.method in UNSAFE_METHODS \
            and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()
        except CSRFError:
            raise ApiError(403, "csrf_failed", "A session call that changes something must "
                           "send the page's CSRF token in the X-CSRFToken header.") from None
    return who
