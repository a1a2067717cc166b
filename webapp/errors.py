"""Every error becomes a finished page (or JSON `{"error": ...}`), never a bare 500 trace."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request, session
from flask_babel import force_locale, gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect as sa_inspect
from werkzeug.exceptions import HTTPException

from diary import locales
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


#: Errors that mean "the database cannot be reached or cannot take this now": a server
#: restarting or down (the connection drops, or none can be made), SQLite's "database is
#: locked" after its busy timeout, a pool with no free connection in time.
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 5


def _locale_without_the_database() -> str:
    """The reader's language from what is in memory: the signed-in person's choice if it is
    loaded still (reading it must not ask the database), else the session's, else the
    browser's."""
    chosen = g.get("viewer_locale")  # kept by the user loader
    if chosen is None:
        user = g.get("_login_user")
        state = sa_inspect(user, raiseerr=False) if user is not None else None
        chosen = state.dict.get("locale") if state is not None else None
    if chosen:
        return locales.reading_locale(chosen)
    if session.get("lang") in locales.LOCALES:
        return str(session["lang"])
    return locales.reading_locale(request.accept_languages.best_match(
        [*locales.LOCALES, "zh"]))


def render_unavailable() -> Any:
    """503 when the database cannot be reached, rendered without it: no traceback, and the
    person is told plainly that what they asked was not done. The request's transaction
    has been rolled back (`transaction()`), so nothing is half written; the engine's pool
    dropped the broken connection and every older one (and `db.liveness` pings one that
    sat idle), so the next request works as soon as the database is back, without
    restarting the app."""
    language = _locale_without_the_database()
    # From here on the request has no signed-in person: loading one needs the database.
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    with force_locale(locales.babel_locale(language)):
        title = gettext("The site is briefly unavailable")
        text = gettext("We could not reach our database just now, so what you asked was not "
                       "done. Please try again in a moment.")
        if _wants_json():
            response = jsonify(error=text)
        else:
            response = current_app.make_response(render_template(
                "errors/unavailable.html", title=title, text=text))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


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
            if isinstance(error, RateLimitExceeded):
                # When to come back: at the latest when the limit's window has passed.
                headers.setdefault("Retry-After", str(error.limit.limit.get_expiry()))
            return api_errors.response(error.code or 500, headers)
        return render_error(error.code or 500)

    def _unavailable(error: Exception) -> Any:
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(error).splitlines()[0] if str(error) else type(error).__name__)
        if app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return render_unavailable()

    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _unavailable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return render_error(500)
