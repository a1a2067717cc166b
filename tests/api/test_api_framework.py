"""The /api/v1 framework: the generated OpenAPI document, the one error shape, auth."""
from __future__ import annotations

import html
import re
import shlex

import pytest
from api_helpers import bearer, make_token
from openapi_spec_validator import validate

from webapp.blueprints.api_v1.framework import REGISTRY
from webapp.blueprints.api_v1.openapi import openapi_path

AUTO_METHODS = {"HEAD", "OPTIONS"}


def test_the_spec_is_valid_openapi_3_1(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_api_route_is_declared_in_the_spec(app, client):
    """A route under /api/v1 added without `@endpoint` is missing from the spec: this fails."""
    spec = client.get("/api/v1/openapi.json").get_json()
    routed = {(openapi_path(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - AUTO_METHODS}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routed == documented
    assert len(documented) == len(REGISTRY)


def test_every_operation_documents_its_errors_with_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert {"400", "405", "429", "500"} <= statuses, (method, path)
            if op["security"]:
                assert "401" in statuses, (method, path)
            if "x-scope" in op:  # a token's scope may be too small; a shop key's may not
                assert "403" in statuses, (method, path)
            assert op["responses"]["500"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_no_token_is_a_401_with_the_error_shape(client):
    response = client.get("/api/v1/me")
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "bjpat_x",
                                    "Bearer bjpat_wrong", "Bearer " + "x" * 500])
def test_a_wrong_authorization_header_is_a_401(client, header):
    _error(client.get("/api/v1/me", headers={"Authorization": header}), 401, "unauthorized")


def test_routing_errors_have_the_error_shape(client):
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(client.get("/api/v1/children/99999999999"), 404, "not_found")
    response = client.delete("/api/v1/me")
    _error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "PATCH"}
    _error(client.get("/api/v1/me?x=%00"), 400, "bad_request")


def test_the_docs_page_lists_every_operation_with_a_curl_example(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for e in REGISTRY:
        assert f'id="{e.name}"' in page
        assert f"{e.method} {openapi_path(e.rule)}" in page
    assert 'curl -H &#34;Authorization: Bearer $TOKEN&#34;' in page \
        or 'curl -H "Authorization: Bearer $TOKEN"' in page


def test_a_token_reads_the_profile(session, client, make_family):
    user, _ = make_family(email="ann@example.com")
    secret = make_token(session, user, scope="read")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "ann@example.com" and body["scope"] == "read"
    assert body["id"] == user.id


@pytest.mark.clock_at("2026-12-07T01:00")
def test_a_newcomer_creates_an_entry_with_the_docs_curl_example(client, session, make_family):
    """The docs page's example for POST …/entries, run as written (token and child id put
    in, as the page says), makes the entry."""
    user, child = make_family()
    page = html.unescape(client.get("/api/v1/docs").get_data(as_text=True))
    section = page[page.index('id="create_entry"'):]
    example = re.search(r"<h3 class=\"h6\">Example</h3>\s*<pre[^>]*><code>(.*?)</code>",
                        section, re.S).group(1)
    words = shlex.split(example.replace("\\\n", " "))
    assert words[:3] == ["curl", "-X", "POST"]
    headers = dict(value.split(": ", 1) for flag, value in zip(words, words[1:], strict=False)
                   if flag == "-H")
    assert headers["Authorization"] == "Bearer $TOKEN"
    headers["Authorization"] = "Bearer " + make_token(session, user)
    url = words[-1].replace("http://localhost", "").replace("/children/1/",
                                                               f"/children/{child.id}/")
    response = client.post(url, data=words[words.index("-d") + 1], headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["title"] == "First smile"


class TestUnexpected:
    @pytest.fixture()
    def app_overrides(self):
        return {"PROPAGATE_UNEXPECTED": False}

    def test_an_unexpected_failure_is_a_500_in_the_error_shape(self, client, session,
                                                              make_family, monkeypatch):
        from diary import families

        user, _ = make_family()

        def broken(*args, **kwargs):
            raise RuntimeError("the database fell over")

        monkeypatch.setattr(families, "children_of", broken)
        response = client.get("/api/v1/children", headers=bearer(make_token(session, user)))
        error = _error(response, 500, "internal_error")
        assert "fell over" not in error["message"]
