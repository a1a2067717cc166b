"""The one error shape of /api/v1: every answer that is not 2xx is

    {"error": {"code": "not_found", "message": "Not found.", "fields": {...}}}

`code` is stable and meant for programs (the table below); `message` is English, for the
developer reading a log; `fields` (validation errors only) maps a body or query field to
what is wrong with it. The app's error handlers (webapp/errors.py) call `response` for every
/api/v1 path, so routing errors (404, 405), oversize bodies (413), rate limits (429) and
unexpected failures (500) have the same shape as the API's own errors.
"""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel

PREFIX = "/api/v1"

#: The code for each status; an ApiError may name a more precise one.
CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Send a valid token: Authorization: Bearer <token>."),
    403: ("forbidden", "You may not do that."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "That method is not allowed on this path."),
    409: ("conflict", "That clashes with what is stored."),
    412: ("precondition_failed", "The resource changed since you read it (If-Match)."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    422: ("validation_error", "Some values are not valid."),
    429: ("rate_limited", "Too many requests; slow down and try again shortly."),
    500: ("internal_error", "Something went wrong on our side."),
}


class ApiError(Exception):
    """Raise in an endpoint to answer with the error shape."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        default_code, default_message = CODES.get(status, CODES[500 if status >= 500 else 400])
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = fields
        self.headers = headers or {}


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(BaseModel):
    """The shape of every error answer."""

    error: ErrorBody


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error_response(error: ApiError) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    response = jsonify(error=body)
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def response(status: int, headers: dict[str, str] | None = None) -> Response:
    """The shape for a status with its default code and message (the app's handlers)."""
    return error_response(ApiError(status, headers=headers))
