"""The load balancer's checks: /healthz (the database answers) and /readyz (also: the schema at
the migrations' head, uploads writable). Cheap and quiet: no visit noted, no user loaded, no
cookie set; 503 with the reason when a check fails. And the bench-only /hello exists only
when BENCH_ENDPOINTS asks for it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

import db
from clock import utcnow
from webapp import create_app, health


def test_healthz_answers_ok_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_database_that_is_down_is_a_503_with_the_reason(tmp_path, path):
    broken = db.make_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'app.db'}")
    app = create_app("testing", SESSION_FACTORY=db.make_session_factory(broken),
                     UPLOAD_DIR=tmp_path / "uploads")
    response = app.test_client().get(path)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "database unavailable (OperationalError)"
    assert "sqlite" not in response.get_data(as_text=True)  # no connection strings leak
    broken.dispose()


def test_readyz_is_ok_at_the_migrations_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ok"}


def test_readyz_waits_while_the_schema_is_behind_the_code(client, session):
    (head,) = health.migration_heads()
    session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "migrations": f"schema at older, code expects {head}: run `flask db upgrade`"}
    assert client.get("/healthz").status_code == 200  # alive, only not ready


def test_readyz_without_any_migration_state(client, session):
    session.execute(text("DELETE FROM alembic_version"))
    session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "run `flask db upgrade`" in response.get_json()["checks"]["migrations"]


def test_readyz_when_uploads_cannot_be_written(session_factory, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = create_app("testing", SESSION_FACTORY=session_factory,
                     UPLOAD_DIR=blocker / "uploads")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"uploads": "upload folder is not writable"}


def test_checks_are_not_visits_and_load_no_user(client, make_family, login_as, session):
    """A signed-in browser (or a probe that copies a cookie) asking /healthz: the visit stamp
    is not moved and the response is not marked private (no user was loaded for it)."""
    user, _ = make_family()
    login_as(user)
    old = utcnow() - timedelta(hours=3)
    user.last_seen_at = old
    session.commit()
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Cache-Control" not in response.headers
        assert "Set-Cookie" not in response.headers
    session.expire_all()
    assert user.last_seen_at == old


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_checks_take_only_get(client, method):
    assert client.open("/healthz", method=method).status_code == 405
    assert client.open("/readyz", method=method).status_code == 405


def test_checks_are_never_rate_limited(session_factory, tmp_path):
    app = create_app("testing", SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path / "up",
                     RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    client = app.test_client()
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert [client.get("/readyz").status_code for _ in range(5)] == [200] * 5


def test_hello_is_a_404_unless_a_benchmark_asks_for_it(client, session_factory, tmp_path):
    assert client.get("/hello").status_code == 404
    bench = create_app("testing", SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path / "up",
                       BENCH_ENDPOINTS=True)
    response = bench.test_client().get("/hello")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "hello")


def test_bench_endpoints_come_from_the_environment(monkeypatch):
    import importlib

    import config
    monkeypatch.setenv("BENCH_ENDPOINTS", "1")
    try:
        assert importlib.reload(config).Config.BENCH_ENDPOINTS is True
        monkeypatch.delenv("BENCH_ENDPOINTS")
        assert importlib.reload(config).Config.BENCH_ENDPOINTS is False
    finally:
        monkeypatch.undo()
        importlib.reload(config)
        import webapp
        importlib.reload(webapp)


def test_the_health_command_for_processes_without_http(runner, session, tmp_path):
    import json

    ok = runner.invoke(args=["health", "--ready"])
    assert (ok.exit_code, json.loads(ok.output)) == (0, {"status": "ok"})
    session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    session.commit()
    assert runner.invoke(args=["health"]).exit_code == 0  # alive
    behind = runner.invoke(args=["health", "--ready"])
    assert behind.exit_code == 1
    assert json.loads(behind.output)["checks"]["migrations"].startswith("schema at older")
    broken = db.make_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'app.db'}")
    down = create_app("testing", SESSION_FACTORY=db.make_session_factory(broken),
                      UPLOAD_DIR=tmp_path / "uploads")
    result = down.test_cli_runner().invoke(args=["health"])
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "checks": {"database": "database unavailable (OperationalError)"}, "status": "error"}
    broken.dispose()
