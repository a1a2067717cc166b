"""Every error becomes a finished page (or JSON `{"error": ...}`), never a bare 500 trace."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from diary.errors import NotFound, PermissionDenied
from webapp.i18n import translate_error

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"])


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (gettext("Something in that request was not right"),
              gettext("Please go back and try again.")),
        403: (gettext("Not allowed"),
              gettext("Your account does not have permission to do that.")),
        404: (gettext("Page not found"),
              gettext("We could not find that page. It may have been removed, or the link "
                      "may be mistyped.")),
        405: (gettext("Not allowed"), gettext("That action is not available here.")),
        413: (gettext("File too large"),
              gettext("Each photo can be at most 10 MB, and one upload at most 64 MB.")),
        429: (gettext("Too many attempts"),
              gettext("Please wait a minute before trying again.")),
        500: (gettext("Something went wrong on our side"),
              gettext("Nothing you did caused this. Please try again in a moment.")),
    }


def render_error(status: int, detail: str | None = None) -> Any:
    from webapp.blueprints.api_v1 import errors as api_errors
    if api_errors.is_api_request():  # /api/v1 has one error shape, with a code
        return api_errors.response(status)
    title, text = _messages().get(status, _messages()[500 if status >= 500 else 400])
    if _wants_json():
        return jsonify(error=detail or text), status
    return render_template("errors/error.html", status=status, title=title,
                           text=detail or text), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        return render_error(400, gettext("This form has expired. Please reload the page and "
                                         "try again."))

    @app.errorhandler(NotFound)
    def _not_found(error: NotFound) -> Any:
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def _denied(error: PermissionDenied) -> Any:
        return render_error(403, translate_error(error))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        from webapp.blueprints.api_v1 import errors as api_errors
        if api_errors.is_api_request():  # keeps Allow (405) and Retry-After (429)
            headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
            return api_errors.response(error.code or 500, headers)
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return render_error(500)
