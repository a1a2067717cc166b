"""Schemathesis against the generated OpenAPI document: for every operation, generated
requests (valid and invalid) with a write token of a test family, half of them aimed at the
family's real child, entry and photo. No answer may be a 5xx, and every answer must match
the document (status, content type, headers, body schema). Derandomised, a few examples
per operation."""
from __future__ import annotations

import io

import pytest
import schemathesis
from api_helpers import bearer, make_token
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.helpers import png_bytes

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]


@pytest.mark.clock_at("2026-11-23T04:00")
def test_every_operation_survives_generated_requests(app, client, session, make_family):
    user, child = make_family(email="fuzz@example.com")
    secret = make_token(session, user, scope="write")
    headers = bearer(secret)
    made = client.post(f"/api/v1/children/{child.id}/photos", headers=headers,
                       data={"file": (io.BytesIO(png_bytes()), "a.png")},
                       content_type="multipart/form-data")
    assert made.status_code == 201, made.get_json()
    real = {"child_id": child.id, "entry_id": made.get_json()["id"],
            "photo_id": made.get_json()["photos"][0]["id"]}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: op.method.upper() == "DELETE")  # the real rows last
    assert len(operations) >= 10
    for operation in operations:
        for mode in MODES:
            @settings(max_examples=10, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
            def run(case, aim):  # type: ignore[no-untyped-def]
                if aim and case.path_parameters:
                    case.path_parameters = {k: real.get(k, v)
                                            for k, v in case.path_parameters.items()}
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
