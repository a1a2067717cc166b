"""`url_for`, remembered: a page builds a dozen site-relative URLs (the child's sections, its
siblings, the cards' links) and each build walks Werkzeug's rules (about 8 µs).

A site-relative URL depends only on the endpoint, its values and the mount point (the
request's script root) while the app registers no `url_defaults` callbacks and no host
matching; should one appear, every call goes to Flask's own `url_for`. So does anything
else: `_external`, `_anchor`, `_method`, `_scheme`, a relative endpoint (".name"), a list
value, no request. `tests/web/test_url_cache.py` compares the answers with Flask's for
every route.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context, request

MAX_URLS = 8192


def init_app(app: Flask) -> None:
    build: Callable[..., str] = app.url_for

    @functools.lru_cache(maxsize=MAX_URLS)
    def remembered(endpoint: str, items: tuple[tuple[str, Any], ...], script_root: str) -> str:
        return build(endpoint, **dict(items))

    plain: list[bool] = []  # decided at the first call: every blueprint is registered by then

    def url_for(endpoint: str, *, _anchor: str | None = None, _method: str | None = None,
                _scheme: str | None = None, _external: bool | None = None,
                **values: Any) -> str:
        if not plain:
            plain.append(not any(app.url_default_functions.values())
                         and not app.url_map.host_matching)
        if (plain[0] and _anchor is None and _method is None and _scheme is None
                and not _external and not endpoint.startswith(".") and has_request_context()):
            try:
                return remembered(endpoint, tuple(values.items()),
                                  request.script_root)
            except TypeError:  # an unhashable value (a list of query values)
                pass
        return build(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                     _external=_external, **values)

    app.url_for = url_for  # type: ignore[method-assign]  # flask.url_for asks app.url_for
    app.jinja_env.globals["url_for"] = url_for
    app.extensions["url_cache"] = remembered
