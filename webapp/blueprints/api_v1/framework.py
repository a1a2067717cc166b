"""The /api/v1 framework: declare an endpoint once, and its route, its checks (auth, scope,
CSRF for session calls, rate limit, query and body validation, the error shape) and its part
of the OpenAPI 3.1 document (/api/v1/openapi.json, webapp/blueprints/api_v1/openapi.py) all
come from that one declaration. Declaring an endpoint (one module per resource, imported by
webapp/blueprints/api_v1/__init__.py):

    from pydantic import BaseModel
    from diary import families
    from webapp.blueprints.api_v1.framework import Call, endpoint

    class ChildOut(BaseModel):
        id: int
        name: str

    @endpoint("GET", "/children/<int:child_id>", tag="Children", summary="One child",
              scope="read", response=ChildOut)
    def get_child(call: Call, child_id: int) -> ChildOut:
        child = families.child_for(call.session, call.user, child_id)
        return ChildOut(id=child.id, name=child.name)

- `path` is a Flask rule under /api/v1 (`<int:…>` ids are bounded, too big → 404).
- `scope="read"` accepts read and write tokens (and the session); `scope="write"` needs a
  write token (a read token → 403 insufficient_scope). `auth=False`: public.
- `query=Model`: the query string, validated (list fields take repeated parameters:
  `?kind=note&kind=photo`), in `call.query`. `body=Model`: a JSON body (else 415),
  validated, in `call.body`. `files={"file": "what it is"}`: a multipart upload instead
  (read `flask.request.files`); `form=Model`: the upload's other form fields, validated like
  a query, in `call.form` (the spec lists them in the multipart body). Invalid → 422
  validation_error with `fields`.
- `response=Model` and `status=` (200; 201 for creations; 204 with no response model).
  Return the model, or `Reply(model, status=…, etag=…, headers=…)`, or a Flask Response
  (for files; say `media_type="image/jpeg"`).
- `etag=True`: the GET sends an ETag (`Reply(etag=…)`) and writes honour If-Match
  (`call.check_if_match(current_etag)` → 412 precondition_failed when stale).
- Errors: raise `ApiError(status, code, message)` (errors.py), or a domain error:
  NotFound → 404, PermissionDenied → 403, ValidationError → 422 (with its field),
  Conflict → 409. `errors=(409,)` documents extra statuses an endpoint may answer.
- `rate_limit="SETTING"`: the endpoint has a budget of its own (the config setting, counted
  by the client's address for this endpoint), instead of the API-wide API_RATE_LIMIT (e.g.
  the shop integration: SHOP_API_RATE_LIMIT).
- Writes: `with transaction() as s:` (webapp.database), one per request.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, get_origin

import pydantic
from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from diary.errors import Conflict, DiaryError, NotFound, PermissionDenied
from diary.models import AccessToken, User
from webapp.blueprints.api_v1 import auth
from webapp.blueprints.api_v1.errors import PREFIX, ApiError, error_response
from webapp.database import get_session
from webapp.extensions import csrf, limiter
from webapp.rate_limits import limit, per_client

bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
csrf.exempt(bp)  # token calls carry no cookie; session calls are checked in auth.require
# One budget per token (or signed-in person, or address) over the whole API: API_RATE_LIMIT.
# An endpoint declared with `rate_limit=` has its own instead (a limit on the view overrides
# the blueprint's, so such calls spend nothing of API_RATE_LIMIT).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api_v1",
                     key_func=auth.per_api_caller)(bp)

#: A JSON body larger than this is refused (413) before it is parsed.
MAX_JSON_BYTES = 256 * 1024
READ, WRITE = "read", "write"


@dataclass
class Endpoint:
    """One declared operation: what the route does and what the spec says about it."""

    method: str
    path: str  # the Flask rule under /api/v1
    name: str
    summary: str
    tag: str
    scope: str
    description: str = ""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    files: dict[str, str] | None = None
    #: The multipart form fields sent beside `files`.
    form: type[BaseModel] | None = None
    media_type: str = "application/json"
    etag: bool = False
    auth: bool = True
    errors: tuple[int, ...] = ()
    #: For `auth=False` endpoints that check a key of their own: its scheme's name in
    #: SECURITY_SCHEMES (the spec names it, and documents the 401).
    security: str | None = None
    #: The view reads the body itself (its own limits and checks, after its own auth):
    #: `body` only documents it.
    raw_body: bool = False
    #: The config setting of the endpoint's own rate limit (None: API_RATE_LIMIT).
    rate_limit: str | None = None

    @property
    def rule(self) -> str:
        return PREFIX + self.path


#: Every declared endpoint, in declaration order (the spec and the docs page read it).
REGISTRY: list[Endpoint] = []
#: Security schemes beside the token and the session (e.g. the shop integration's key), by
#: name, as the spec's components list them.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {}


@dataclass
class Reply:
    """An answer with a status, headers or an ETag beside the model."""

    model: BaseModel | None = None
    status: int | None = None
    etag: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """What an endpoint receives: who calls, the session, the validated query and body."""

    caller: auth.Caller | None
    session: Session
    query: Any = None
    body: Any = None
    form: Any = None

    @property
    def user(self) -> User:
        if self.caller is None:
            raise ApiError(401)
        return self.caller.user

    @property
    def token(self) -> AccessToken | None:
        return self.caller.token if self.caller is not None else None

    def check_if_match(self, current: str) -> None:
        """412 when the request's If-Match names none of the current ETag (or "*")."""
        wanted = request.headers.get("If-Match")
        if wanted is None:
            return
        tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
        if "*" not in tags and current not in tags:
            raise ApiError(412, headers={"ETag": current})


def endpoint(method: str, path: str, *, summary: str, tag: str, scope: str = READ,
             query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
             response: type[BaseModel] | None = None, status: int | None = None,
             files: dict[str, str] | None = None, form: type[BaseModel] | None = None,
             media_type: str = "application/json",
             etag: bool = False, auth: bool = True, errors: Iterable[int] = (),
             security: str | None = None, raw_body: bool = False,
             rate_limit: str | None = None,
             description: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare and route one operation (see the module's docstring)."""
    if scope not in (READ, WRITE):
        raise ValueError(f"scope must be read or write, not {scope!r}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = Endpoint(method=method.upper(), path=path, name=view.__name__, summary=summary,
                        tag=tag, scope=scope, description=description or (view.__doc__ or ""),
                        query=query, body=body, response=response,
                        status=status or (204 if response is None and media_type ==
                                          "application/json" else 200),
                        files=files, form=form, media_type=media_type, etag=etag, auth=auth,
                        security=security, raw_body=raw_body, rate_limit=rate_limit,
                        errors=tuple(errors))
        if any(e.name == spec.name for e in REGISTRY):
            raise ValueError(f"two API endpoints are called {spec.name}")
        REGISTRY.append(spec)

        @functools.wraps(view)
        def route(**kwargs: Any) -> Any:
            try:
                return _run(spec, view, kwargs)
            except ApiError as error:
                get_session().rollback()
                return error_response(error)

        view_func = route
        if rate_limit is not None:
            view_func = limit(rate_limit, key=per_client, methods=(spec.method,))(route)
        bp.add_url_rule(path, endpoint=spec.name, view_func=view_func, methods=[spec.method])
        return view

    return decorator


def _run(spec: Endpoint, view: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    who = auth.require(spec.scope) if spec.auth else auth.caller()
    call = Call(who, get_session())
    if spec.query is not None:
        call.query = _validate(spec.query, _query_values(spec.query), "query")
    if spec.form is not None:
        call.form = _validate(spec.form, _query_values(spec.form, request.form), "form")
    if spec.body is not None and not spec.raw_body:
        call.body = _validate(spec.body, _json_body(), "body")
    try:
        result = view(call, **kwargs)
    except NotFound:
        raise ApiError(404) from None
    except PermissionDenied as error:
        raise ApiError(403, message=str(error)) from None
    except Conflict as error:
        raise ApiError(409, message=str(error)) from None
    except DiaryError as error:  # ValidationError and the other input errors
        raise ApiError(422, message=str(error),
                       fields={error.field: str(error)} if error.field else None) from None
    return _respond(spec, result)


def _respond(spec: Endpoint, result: Any) -> Any:
    if isinstance(result, Response):
        return result
    if isinstance(result, str):  # a rendered page (media_type="text/html")
        return current_app.response_class(result, status=spec.status, mimetype=spec.media_type)
    reply = result if isinstance(result, Reply) else Reply(result)
    status = reply.status or spec.status
    if reply.model is None:
        response = current_app.response_class(status=status)
    else:
        response = jsonify(reply.model.model_dump(mode="json"))
        response.status_code = status
    if reply.etag:
        response.headers["ETag"] = reply.etag
    response.headers.update(reply.headers)
    return response


def _query_values(model: type[BaseModel],
                  source: MultiDict[str, str] | None = None) -> dict[str, Any]:
    """The model's fields from the query string (or `source`, e.g. the form)."""
    given = request.args if source is None else source
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in given:
            continue
        many = get_origin(info.annotation) is list or _is_optional_list(info.annotation)
        values[key] = given.getlist(key) if many else given.get(key)
    return values


def _is_optional_list(annotation: Any) -> bool:
    return any(get_origin(a) is list for a in getattr(annotation, "__args__", ()))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_body() -> Any:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiError(413)
    if request.mimetype != "application/json" and not re.fullmatch(
            r"application/[a-z0-9.+-]+\+json", request.mimetype or ""):
        raise ApiError(415)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(413)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        raise ApiError(422, fields=field_errors(error, where)) from None


def field_errors(error: pydantic.ValidationError, where: str = "body") -> dict[str, str]:
    """A pydantic error as the error shape's `fields` ({"data.mood": "…", …})."""
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in problem["loc"]) or where
        fields.setdefault(name, problem["msg"])
    return fields
