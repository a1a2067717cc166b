"""Staff reads of customer data, recorded before the page is shown (`diary.staff_audit`).

A view that shows customer data to staff loads what it needs, calls `record_read(...)` with
the people and families on the page, and renders only after the record is committed. When the
record cannot be written, the read is refused (503): there are no unaudited reads.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from diary import staff_audit
from diary.models import Family, User
from webapp import logs
from webapp.database import get_session, transaction
from webapp.errors import render_error

log = logging.getLogger(__name__)

class AccessNotRecorded(HTTPException):
    code = 503


def init_app(app: Flask) -> None:
    @app.errorhandler(AccessNotRecorded)
    def _not_recorded(_error: AccessNotRecorded) -> Any:
        return render_error(503, gettext(
            "This page shows customer data, and your access to it could not be recorded, "
            "so it is not shown. Please try again in a moment."))


def request_id() -> str:
    """The request's id (webapp.logs: the proxy's X-Request-ID when it looks like one, else
    a new one), the same one its log lines and its X-Request-ID response header carry."""
    return logs.request_id()


def where() -> staff_audit.Where:
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    return staff_audit.Where(method=request.method, route=rule, path=request.path,
                             request_id=request_id(), ip=request.remote_addr)


def record_read(what: str, users: Iterable[User | None] = (),
                families: Iterable[Family] = (), kind: str | None = None,
                term: str | None = None) -> None:
    """Commit one access row for the signed-in staff member, or refuse the read."""
    try:
        with transaction() as session:
            staff_audit.record(session, current_user, what, where(), users=users,
                               families=families, kind=kind, term=term)
    except Exception as error:  # noqa: BLE001 - any failure refuses the read
        log.exception("staff access not recorded (%s %s)", request.method, request.path)
        get_session().rollback()
        raise AccessNotRecorded() from error
