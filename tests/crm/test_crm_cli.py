"""`flask crm scores`, `flask crm clv-validate`, the nightly job and `flask demo load`."""
from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import func, select

from crm import cdnow
from crm.models import CustomerScore
from diary.models import User
from webapp import scheduler

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def parents(session):
    return session.scalar(select(func.count()).select_from(User)
                          .where(User.staff_role.is_(None)))


def scored(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CustomerScore))


def test_scores_command_rewrites_every_customer(runner, session, make_family):
    make_family()
    make_family()
    result = runner.invoke(args=["crm", "scores"])
    assert result.exit_code == 0, result.output
    assert f"Scored {parents(session)} customers (0 buyers" in result.stdout
    assert scored(session) == parents(session) >= 2
    bad = runner.invoke(args=["crm", "scores", "--now", "yesterday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    at = runner.invoke(args=["crm", "scores", "--now", "2026-11-01T00:00"])
    assert at.exit_code == 0
    session.expire_all()
    assert {r.computed_at.isoformat() for r in session.scalars(select(CustomerScore))} == {
        "2026-11-01T00:00:00+00:00"}


def test_clv_validate_prints_the_fit_beside_the_published_parameters(runner):
    try:
        cdnow.data_dir()
    except cdnow.MissingData as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    result = runner.invoke(args=["crm", "clv-validate", "--json"])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.strip().splitlines()
    report = json.loads(line)
    assert report["within_1_percent"] is True
    assert {k: v["published"] for k, v in report["bgnbd"].items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.43}
    assert {k: v["published"] for k, v in report["gamma_gamma"].items()} == {
        "p": 6.25, "q": 3.74, "v": 15.44}
    assert all(v["relative_error"] < 0.01 for model in ("bgnbd", "gamma_gamma")
               for v in report[model].values())
    table = runner.invoke(args=["crm", "clv-validate"])
    assert table.exit_code == 0 and "bgnbd r" in table.stdout and "0.2430" in table.stdout


def test_clv_validate_without_the_data_wheel_says_how_to_get_it(runner, monkeypatch):
    monkeypatch.setattr(cdnow.importlib.util, "find_spec", lambda name: None)
    result = runner.invoke(args=["crm", "clv-validate", "--json"])
    assert result.exit_code == 1
    assert "pip install --no-deps Lifetimes==0.11.3" in result.output
    assert result.stdout.strip() == "" or result.stdout.startswith("Error")


def test_clv_validate_fails_beyond_one_percent(runner, monkeypatch):
    monkeypatch.setattr(cdnow, "validate", lambda: {
        "data": "x", "customers": 1, "repeat_buyers": 1, "within_1_percent": False,
        "bgnbd": {"r": {"fitted": 0.3, "published": 0.243, "relative_error": 0.23}},
        "gamma_gamma": {}})
    result = runner.invoke(args=["crm", "clv-validate"])
    assert result.exit_code == 1 and "0.23000" in result.stdout


def test_the_nightly_job_scores_everyone(app, session, session_factory, make_family):
    app.extensions["job_session_factory"] = session_factory
    make_family()
    [job] = [job for job in scheduler.JOBS if job.id == "crm-scores"]
    assert job.trigger == {"hours": 24}
    job.func(app)
    assert scored(session) == parents(session) >= 1


def test_demo_load_ends_with_scores_for_the_analyst(app, runner, session, monkeypatch):
    from diary import demo
    from webapp import cli

    monkeypatch.setattr(demo, "load", lambda session, store: demo.DemoReport())
    monkeypatch.setattr(cli, "DEMO_SIMULATION", {"families": 12, "days": 30, "seed": 1})
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Scored" in result.stdout
    assert scored(session) == parents(session) >= 12
    buyers = session.scalar(select(func.count()).select_from(CustomerScore)
                            .where(CustomerScore.frequency > 0))
    assert buyers > 0
