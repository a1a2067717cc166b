"""The OpenAPI 3.1 document of /api/v1, generated from the endpoint declarations
(framework.REGISTRY) and their pydantic models (whose JSON Schema is 2020-12, the dialect
OpenAPI 3.1 uses). Nothing here is written per endpoint: declare, and it appears.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from db import INT_MAX
from webapp.blueprints.api_v1.errors import CODES, ErrorOut
from webapp.blueprints.api_v1.framework import REGISTRY, SECURITY_SCHEMES, WRITE, Endpoint

_PARAM = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
REF = "#/components/schemas/{model}"
API_VERSION = "1.0.0"


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/children/<int:child_id>` → `/children/{child_id}`."""
    return _PARAM.sub(lambda m: "{" + m["name"] + "}", rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    params = []
    for m in _PARAM.finditer(rule):
        schema: dict[str, Any] = {"type": "string"}
        if m["converter"] == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": INT_MAX}
        elif m["converter"] == "any":
            schema = {"type": "string",
                      "enum": [a.strip().strip("'\"") for a in (m["args"] or "").split(",")]}
        params.append({"name": m["name"], "in": "path", "required": True, "schema": schema})
    return params


def _models() -> list[tuple[type[BaseModel], Any]]:
    wanted: list[tuple[type[BaseModel], Any]] = [(ErrorOut, "serialization")]
    for e in REGISTRY:
        wanted += [(m, "validation") for m in (e.query, e.body, e.form) if m is not None]
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _resolved(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return defs[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def _query_parameters(model: type[BaseModel], schema: dict[str, Any],
                      defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolved(schema, defs)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param = {"name": name, "in": "query", "required": name in required,
                 "schema": {k: v for k, v in prop.items() if k != "description"}}
        if prop.get("description"):
            param["description"] = prop["description"]
        if prop.get("type") == "array" or any(o.get("type") == "array"
                                              for o in prop.get("anyOf", [])):
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _error_statuses(e: Endpoint) -> list[int]:
    statuses = {400, 405, 429, 500} | set(e.errors)
    if e.auth:
        statuses |= {401, 403}
    if e.security:
        statuses.add(401)
    if "<" in e.path:
        statuses.add(404)
    if e.query is not None or e.body is not None or e.files:
        statuses.add(422)
    if e.body is not None:
        statuses |= {413, 415}
    if e.files:
        statuses.add(413)
    if e.etag and e.method != "GET":
        statuses.add(412)
    return sorted(statuses)


def _operation(e: Endpoint, refs: dict[Any, Any], defs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": e.name, "summary": e.summary, "tags": [e.tag]}
    if e.description.strip():
        op["description"] = " ".join(e.description.split())
    params = _path_parameters(e.path)
    form: dict[str, Any] = {}
    if e.form is not None:
        form = _resolved(refs[(e.form, "validation")], defs)
    if e.query is not None:
        for param in _query_parameters(e.query, refs[(e.query, "validation")], defs):
            if param["name"] in form.get("properties", {}):
                param["deprecated"] = True  # still read; the form field is the way now
                param["description"] = (param.get("description", "") + " Send it as a form "
                                        "field of the multipart body instead (which wins "
                                        "when both are sent).").strip()
            params.append(param)
    if e.etag and e.method != "GET":
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": "The ETag you read; a stale one is refused (412).",
                       "schema": {"type": "string"}})
    if params:
        op["parameters"] = params
    if e.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(e.body, "validation")]}}}
    elif e.files:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": sorted(e.files) + form.get("required", []),
            "properties": {**{name: {"type": "string", "contentMediaType":
                                     "application/octet-stream", "description": text}
                              for name, text in e.files.items()},
                           **form.get("properties", {})}}}}}
    success: dict[str, Any] = {"description": "OK" if e.status < 300 else "Done"}
    if e.response is not None:
        success["content"] = {e.media_type: {"schema": refs[(e.response, "serialization")]}}
    elif e.status == 200 and e.media_type == "application/json":
        success["content"] = {e.media_type: {"schema": {"type": "object"}}}
    elif e.media_type != "application/json":
        success["content"] = {e.media_type: {"schema": {
            "type": "string", "contentMediaType": e.media_type}}}
    if e.etag and e.method == "GET":
        success["headers"] = {"ETag": {"schema": {"type": "string"},
                                       "description": "Send it back in If-Match to write."}}
    op["responses"] = {str(e.status): success}
    error_ref = refs[(ErrorOut, "serialization")]
    for status in _error_statuses(e):
        op["responses"][str(status)] = {
            "description": f"{CODES[status][0]}: {CODES[status][1]}",
            "content": {"application/json": {"schema": error_ref}}}
    if e.auth:
        op["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
        op["x-scope"] = e.scope
        if e.scope == WRITE:
            op["description"] = (op.get("description", "") + " Needs a write token.").strip()
    else:
        op["security"] = [{e.security: []}] if e.security else []
    return op


@cache
def spec() -> dict[str, Any]:
    """The whole document (built once: the registry is fixed once the app is made)."""
    refs, top = models_json_schema(_models(), ref_template=REF)
    defs = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for e in REGISTRY:
        paths.setdefault(openapi_path(e.rule), {})[e.method.lower()] = _operation(e, refs, defs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Baby Journey API", "version": API_VERSION,
                 "description": "The JSON API for the baby's book: profile, children, "
                                "timeline entries and photos, and more. Authenticate with a "
                                "personal access token from your account page: "
                                "`Authorization: Bearer <token>`. Every error answers "
                                "`{\"error\": {\"code\": …, \"message\": …}}`; messages are "
                                "English, switch on `code`."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal access token (account page)."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "The signed-in web session (same-site "
                                                 "calls; writes need X-CSRFToken)."},
                **SECURITY_SCHEMES,
            },
        },
    }
