"""Structured logs: one JSON line per request, and JSON for everything else the processes log.

With LOG_FORMAT=json (production's default) every log record is one JSON object on stderr:
`time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` when it happened during a
request, and `exc` with the traceback when there is one. Each request adds one line from the
`webapp.requests` logger with `method`, `path`, `status`, `duration_ms` and `user_id` (the
signed-in person's id, never their email). The path is the route's pattern with only numeric
parts filled in (`/children/12/timeline`, `/reset/<token>`): links in emails carry tokens in
their path, and tokens never reach a log. The query string is never logged.

The request id is the caller's `X-Request-ID` when it sends a usable one (a load balancer or
proxy that made it: 8 to 64 letters, digits, `-`, `_`, `.`, `:`; anything else is replaced,
never trimmed into shape), else a new random one; it is returned in the response's
`X-Request-ID`, attached to every record logged while the request runs, and recorded in the
staff access log (webapp.audit). LOG_FORMAT=text gives plain lines; unset (development, tests)
leaves Python's logging as it is.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_USABLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_RULE_PART = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
request_log = logging.getLogger("webapp.requests")
_HANDLER_MARK = "_babyjourney_handler"

#: Fields a record may carry (via `extra=`) that the JSON line shows, in this order.
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "remote_addr")


def _stamp_request_id() -> None:
    """Every record made while a request runs carries its id (`record.request_id`), whichever
    handler later formats it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _HANDLER_MARK, False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    setattr(make, _HANDLER_MARK, True)
    logging.setLogRecordFactory(make)


def clean_request_id(value: str | None) -> str | None:
    """The caller's id if it looks like one (8 to 64 letters, digits, `. _ : -`); anything
    else is not trimmed into shape but replaced by a new id."""
    return value if value and _USABLE.fullmatch(value) else None


def request_id() -> str:
    """This request's id (set when it began; made now for a hook that ran before ours)."""
    if "request_id" not in g:
        g.request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) \
            or new_request_id()
    return str(g.request_id)


def new_request_id() -> str:
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        return f"{text} [{request_id}]" if request_id else text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (not the one at set-up time,
    which a test runner or a daemoniser may have closed since)."""

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def configure(fmt: str, level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """One handler on the root logger, in `fmt` ("json" or "text"), replacing the one this
    function installed before (so calling it again, e.g. per app, does not double lines)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


def configure_process(app: Flask) -> None:
    """The scheduler's and the sender's logging: the app's format, plain text if unset."""
    configure(app.config.get("LOG_FORMAT") or "text", app.config.get("LOG_LEVEL") or "INFO")


FORMATS = ("", "json", "text")


def init_app(app: Flask) -> None:
    _stamp_request_id()
    fmt = app.config.get("LOG_FORMAT") or ""
    if fmt not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be json or text (or empty), not {fmt!r}")
    if fmt:
        configure(fmt, app.config.get("LOG_LEVEL") or "INFO")
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _start() -> None:
    rid = request_id()
    g.request_started = time.perf_counter()
    g.request_id_token = request_id_var.set(rid)


def logged_path() -> str:
    """The route's pattern with its numeric parts filled in; unmatched paths as asked (cut)."""
    rule = request.url_rule
    if rule is None:
        return request.path[:200]
    args = request.view_args or {}

    def fill(match: re.Match[str]) -> str:
        value = args.get(match.group(1))
        return str(value) if isinstance(value, int) and not isinstance(value, bool) \
            else match.group(0)

    return _RULE_PART.sub(fill, rule.rule)


def _user_id() -> int | None:
    """The signed-in person's id if this request loaded them (never loads them for the log)."""
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "id", None)
    return None


def _finish(response: Response) -> Response:
    if "request_started" not in g:  # a before_request hook ahead of ours answered
        _start()
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 2) if started else None
    request_log.info("%s %s %s", request.method, logged_path(), response.status_code,
                     extra={"method": request.method,
                            "path": logged_path(), "status": response.status_code,
                            "duration_ms": duration, "user_id": _user_id()})
    return response


def _forget(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (a copied one): just clear it
            request_id_var.set(None)
