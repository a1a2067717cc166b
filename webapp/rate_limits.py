"""Rate limits: one decorator for every limited action, keyed per client and per account.

Limits are named by config keys (config.py: LOGIN_RATE_LIMIT, …) so operators tune them
without code. Each limited action is counted by the client's address (behind a proxy that is
the address the trusted proxy reports: TRUSTED_PROXY_COUNT) and, where it names an account,
by that account too: an attacker with many addresses still meets the per-account limit, and
one busy office network does not lock everyone out of their own account.

Counts live in RATELIMIT_STORAGE_URI: per process with memory:// (development, one worker),
shared with Redis or Memcached in production (the production config insists when several
workers serve).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from webapp.extensions import limiter


def per_client() -> str:
    return f"ip:{get_remote_address()}"


def per_address() -> str:
    """The account an anonymous form names (sign-in, reset), by a hash of the address typed:
    the limit follows the account, and the storage never holds the address itself."""
    typed = (request.form.get("email") or "").strip().lower()
    if not typed:
        return per_client()
    return "addr:" + hashlib.sha256(typed.encode("utf-8")).hexdigest()[:32]


def per_account() -> str:
    """The signed-in person (falls back to the client address for visitors)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return per_client()


def limit(setting: str, key: Callable[[], str] = per_client,
          methods: Iterable[str] = ("POST",), when: Callable[[], bool] | None = None
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit a view by the config value `setting` ("5 per minute;20 per hour"), counted by
    `key`, for `methods` only (pages can be looked at freely), optionally only `when` a
    condition holds for the request (e.g. it carries files)."""
    exempt = (lambda: not when()) if when is not None else None
    return limiter.limit(lambda: current_app.config[setting], key_func=key,
                         methods=list(methods), scope=f"{setting}:{key.__name__}",
                         exempt_when=exempt)


def has_files() -> bool:
    return any(f.filename for f in request.files.values())
