"""GET /api/v1/openapi.json (the generated OpenAPI 3.1 document) and GET /api/v1/docs (a
page rendered from it on the server: every endpoint, its parameters, bodies, responses and
a curl example)."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, render_template, request

from webapp.blueprints.api_v1 import openapi
from webapp.blueprints.api_v1.framework import Call, endpoint


@endpoint("GET", "/openapi.json", tag="Meta", summary="This API's OpenAPI 3.1 document",
          auth=False, status=200)
def get_openapi(call: Call) -> Response:
    return jsonify(openapi.spec())


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return (schema.get("examples") or [None])[0]


def _curl(base: str, path: str, method: str, op: dict[str, Any],
          components: dict[str, Any]) -> str:
    parts = ["curl" if method == "get" else f"curl -X {method.upper()}"]
    if op.get("security"):
        parts.append('-H "Authorization: Bearer $TOKEN"')
    body = op.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        example = _example(body["application/json"]["schema"], components) or {}
        parts.append('-H "Content-Type: application/json"')
        parts.append("-d '" + json.dumps(example, ensure_ascii=False) + "'")
    elif "multipart/form-data" in body:
        for name, prop in body["multipart/form-data"]["schema"]["properties"].items():
            if prop.get("contentMediaType") == "application/octet-stream":
                parts.append(f"-F {name}=@photo.jpg")
            else:
                parts.append(f"-F '{name}=…'")
    shown = path
    for param in op.get("parameters", []):
        if param["in"] == "path":
            shown = shown.replace("{" + param["name"] + "}", "1")
    parts.append(f'"{base}{shown}"')
    return " \\\n  ".join(parts)


@endpoint("GET", "/docs", tag="Meta", summary="This documentation, as a web page",
          auth=False, media_type="text/html")
def docs_page(call: Call) -> Any:
    spec = openapi.spec()
    components = spec["components"]["schemas"]
    base = request.host_url.rstrip("/")
    operations = [
        {"path": path, "method": method, "op": op,
         "curl": _curl(base, path, method, op, components)}
        for path, item in spec["paths"].items() for method, op in item.items()]
    return render_template("api_v1/docs.html", spec=spec, operations=operations,
                           components=components, dumps=lambda v: json.dumps(
                               v, indent=2, ensure_ascii=False))
