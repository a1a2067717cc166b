"""Structured logs: a JSON line per request with its request id (the caller's X-Request-ID,
cleaned and capped, or a new one), returned in the response; the id on every record logged
during the request; no emails, tokens or query strings in the line."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from webapp import create_app, logs


@pytest.fixture()
def lines(caplog):  # type: ignore[no-untyped-def]
    """The request log's records, formatted as the JSON handler would write them."""
    caplog.set_level(logging.INFO, logger="webapp.requests")
    formatter = logs.JsonFormatter()

    def read():  # type: ignore[no-untyped-def]
        return [json.loads(formatter.format(r)) for r in caplog.records
                if r.name == "webapp.requests"]
    return read


def test_every_response_gets_a_new_request_id(client):
    first = client.get("/privacy").headers["X-Request-ID"]
    second = client.get("/privacy").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@pytest.mark.parametrize(("sent", "kept"), [
    ("lb-7f3a.42:1", "lb-7f3a.42:1"),
    ("x" * 64, "x" * 64),
    ("x" * 65, None),  # too long: replaced, not cut
    ("short", None),  # too short to be anyone's id
    ("abc\tX-Evil: 1 %0d%0a", None),
    ('"><script>alert(1)</script>', None),
    ("请求请求请求请求", None),
    ("         ", None),
])
def test_the_callers_request_id_is_cleaned_and_capped(client, sent, kept):
    got = client.get("/privacy", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    if kept is None:
        assert re.fullmatch(r"[0-9a-f]{32}", got)
    else:
        assert got == kept


def test_one_json_line_per_request_with_the_user_id_and_never_the_email(
        client, make_family, login_as, lines):
    user, child = make_family(email="secret.mum@example.com")
    login_as(user)
    before = len(lines())
    response = client.get(f"/children/{child.id}/timeline?q=secret.mum@example.com",
                          headers={"X-Request-ID": "req-00001"})
    assert response.status_code == 200
    (line,) = lines()[before:]
    assert set(line) == {"time", "level", "logger", "message", "request_id", "method", "path",
                         "status", "duration_ms", "user_id"}
    assert line["request_id"] == "req-00001" == response.headers["X-Request-ID"]
    assert (line["level"], line["logger"], line["method"]) == ("INFO", "webapp.requests", "GET")
    assert line["path"] == f"/children/{child.id}/timeline"  # no query string
    assert (line["status"], line["user_id"]) == (200, user.id)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert "secret.mum" not in json.dumps(line)


def test_tokens_in_paths_never_reach_the_log(client, lines):
    token = "eyJzZWNyZXQiOiJ0b2tlbiJ9.abcdef.ghijkl"
    client.get(f"/reset/{token}")
    client.get(f"/e/u/{token}")
    found = lines()[-2:]
    assert [line["path"] for line in found] == ["/reset/<token>", "/e/u/<token>"]
    assert token not in json.dumps(found)
    assert all("user_id" not in line for line in found)  # nobody signed in


def test_a_404_and_a_refused_request_are_logged_with_their_id(client, lines):
    response = client.get("/no-such-page", headers={"X-Request-ID": "r404-0000"})
    assert response.status_code == 404 and response.headers["X-Request-ID"] == "r404-0000"
    line = lines()[-1]
    assert (line["path"], line["status"], line["request_id"]) == ("/no-such-page", 404, "r404-0000")


def test_records_logged_during_a_request_carry_its_id(app, caplog):
    def view():  # type: ignore[no-untyped-def]
        logging.getLogger("journeys.outbox").warning("inside the request")
        return "ok"
    app.add_url_rule("/_t/log", "t_log", view)
    caplog.set_level(logging.INFO)
    app.test_client().get("/_t/log", headers={"X-Request-ID": "inner-0009"})
    inner = [r for r in caplog.records if r.getMessage() == "inside the request"]
    assert [r.request_id for r in inner] == ["inner-0009"]
    assert json.loads(logs.JsonFormatter().format(inner[0]))["request_id"] == "inner-0009"
    logging.getLogger("journeys.outbox").warning("after it")
    assert caplog.records[-1].request_id is None  # the id does not leak into what follows


@pytest.fixture()
def root_handlers():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    yield
    root.handlers[:] = saved
    root.setLevel(level)


def test_log_format_json_writes_json_lines_to_the_stream(session_factory, tmp_path,
                                                         root_handlers):
    app = create_app("testing", SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path / "u",
                     LOG_FORMAT="json")
    stream = io.StringIO()
    logs.configure("json", "INFO", stream)  # the same handler, on a stream the test reads
    app.test_client().get("/healthz", headers={"X-Request-ID": "probe-0001"})
    logging.getLogger("webapp.scheduler").info("scheduler starting")
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"path": "/healthz", "status": 200, "request_id": "probe-0001"}.items() \
        <= parsed[0].items()
    assert (parsed[-1]["logger"], parsed[-1]["message"]) == ("webapp.scheduler",
                                                             "scheduler starting")
    assert "request_id" not in parsed[-1]
    assert sum(1 for h in logging.getLogger().handlers
               if getattr(h, "_babyjourney_handler", False)) == 1  # replaced, not added


def test_the_scheduler_and_senders_log_json_too(session_factory, tmp_path, root_handlers):
    app = create_app("testing", SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path / "u",
                     LOG_FORMAT="json")
    logs.configure_process(app)
    handler = next(h for h in logging.getLogger().handlers
                   if getattr(h, "_babyjourney_handler", False))
    assert isinstance(handler.formatter, logs.JsonFormatter)
    record = logging.LogRecord("journeys.outbox", logging.ERROR, __file__, 1, "boom %s", ("x",),
                               None)
    assert json.loads(handler.format(record))["message"] == "boom x"


def test_an_unknown_log_format_refuses_to_start(session_factory):
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or text"):
        create_app("testing", SESSION_FACTORY=session_factory, LOG_FORMAT="xml")


def test_production_logs_json_by_default(monkeypatch):
    import config
    if "LOG_FORMAT" in __import__("os").environ:
        pytest.skip("LOG_FORMAT set in this environment")
    assert config.ProductionConfig.LOG_FORMAT == "json"
    assert config.DevelopmentConfig.LOG_FORMAT == "" == config.TestingConfig.LOG_FORMAT


def test_the_staff_access_log_records_the_same_request_id(client, session, login_as):
    from tests.web.test_staff_audit import accesses
    from tests.web.test_studio import make_staff

    login_as(make_staff(session, "admin"))
    given = client.get("/studio/audit", headers={"X-Request-ID": "lb-00000042"})
    assert accesses(session)[-1].request_id == "lb-00000042" == given.headers["X-Request-ID"]
    made = client.get("/studio/audit", headers={"X-Request-ID": "bad id"})
    assert accesses(session)[-1].request_id == made.headers["X-Request-ID"] != "bad id"
