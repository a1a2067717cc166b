"""What a request may carry before any view reads it: ids that fit, text that can be stored.

- `<int:…>` in every route only matches numbers an Integer column can hold (≤ db.INT_MAX):
  a larger number is a 404, not a failed SQL query (PostgreSQL's int4 overflows; SQLite's
  driver raises OverflowError past 64 bits).
- `id_arg(name)`: a query-string id read the same way; malformed or out of range → None.
- A NUL byte (or text that is not valid Unicode, which JSON escapes can make) anywhere in the
  path, the query, a form or a JSON body is a 400 with the reason: PostgreSQL cannot store
  or even compare such strings, and no person types them.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import gettext
from werkzeug.routing import IntegerConverter, Map

from db import INT_MAX
from diary import bounds
from webapp.errors import render_error


class IdConverter(IntegerConverter):
    """Werkzeug's `int` converter, bounded to the ids a row can have."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = INT_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_arg(name: str) -> int | None:
    """The query parameter `name` as a row id; None when missing, malformed or out of range."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    value = int(raw)
    return value if bounds.is_row_id(value) else None


def init_app(app: Flask) -> None:
    """Register the bounded `int` converter (call it before any blueprint adds its rules)
    and the text check that runs before every view."""
    app.url_map.converters["int"] = IdConverter
    # First of all before-request functions: nothing else reads the request before it.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unstorable_text)


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return gettext("The request contains a character that is not allowed (a NUL byte).")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return gettext("The request contains text that is not valid Unicode.")
    return None


def _strings(value: Any) -> Any:
    """Every string inside a parsed JSON value (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _request_strings() -> Any:
    yield request.path
    for multi in (request.args, request.form):
        for key, values in multi.lists():
            yield key or ""  # a multipart part may have no name (None)
            yield from values
    for key, upload in request.files.items(multi=True):
        yield key or ""
        yield upload.filename or ""
    if request.is_json:
        yield from _strings(request.get_json(silent=True))


def _refuse_unstorable_text() -> Any:
    for text in _request_strings():
        problem = _problem(text)
        if problem is not None:
            return render_error(400, problem)
    return None
