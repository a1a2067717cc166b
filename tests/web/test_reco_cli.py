"""`flask reco …` and `flask demo simulate`: the offline proof meets its targets, training
writes an artifact the web workers pick up, simulations go through the interaction log."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content import packs
from content.models import ContentItem
from diary.photos import PhotoStore
from recommender import artifacts, log
from recommender.models import Interaction
from webapp import scheduler, services

BASELINES = ("popularity", "item-knn", "ease")
METRICS = {"hr@10", "ndcg@10", "map@10", "coverage", "novelty"}


def evaluate(runner, dataset):
    result = runner.invoke(args=["reco", "evaluate", "--dataset", dataset, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # exactly one JSON object on stdout; progress goes to stderr
    report = json.loads(lines[0])
    assert set(report) >= {"dataset", "protocol", "models"} and report["dataset"] == dataset
    assert all(set(m) == METRICS for m in report["models"].values())
    return report


def test_movielens_ours_beats_every_baseline(runner):
    report = evaluate(runner, "movielens-100k")
    models = report["models"]
    assert set(models) == {*BASELINES, "ours"}  # no stages in MovieLens
    # the protocol is the published one: popularity reproduces HR 0.086 / NDCG 0.044–0.045
    assert models["popularity"]["hr@10"] == pytest.approx(0.086, abs=0.0005)
    assert models["popularity"]["ndcg@10"] == pytest.approx(0.0449, abs=0.0005)
    assert models["ease"]["ndcg@10"] >= 0.072  # λ tuned on validation
    assert models["ours"]["ndcg@10"] >= 0.080
    assert all(models["ours"]["ndcg@10"] > models[name]["ndcg@10"] for name in BASELINES)
    assert "leave-last-one-out" in report["protocol"]


def test_simulated_ours_is_well_ahead_of_stage_popularity(runner, app):
    report = evaluate(runner, "simulated")
    models = report["models"]
    # kept for the analysts' page (studio.reco)
    from recommender import artifacts
    kept = artifacts.latest_evaluations(app.config["RECO_ARTIFACT_DIR"])
    assert [k["models"] for k in kept] == [models] and kept[0]["dataset"] == "simulated"
    assert set(models) == {*BASELINES, "stage-popularity", "ours"}
    assert models["ours"]["ndcg@10"] >= 1.3 * models["stage-popularity"]["ndcg@10"]
    assert all(models["ours"]["ndcg@10"] > m["ndcg@10"] for name, m in models.items()
               if name != "ours")


def test_an_unknown_data_set_is_refused(runner):
    result = runner.invoke(args=["reco", "evaluate", "--dataset", "netflix", "--json"])
    assert result.exit_code == 2 and "netflix" in result.output


def load_pack(session, tmp_path):
    with session.begin_nested():
        packs.import_pack(session, packs.DEFAULT_PACK, None, PhotoStore(tmp_path))


def test_simulate_then_train_then_the_web_worker_sees_it(app, runner, session, tmp_path):
    folder = Path(app.config["RECO_ARTIFACT_DIR"])
    store = app.extensions["reco_artifacts"]
    store.check_seconds = 0
    with app.app_context():
        assert services.reco_model() is None  # nothing trained yet
    refused = runner.invoke(args=["demo", "simulate", "--families", "4", "--days", "20"])
    assert refused.exit_code == 1 and "no published products" in refused.output
    load_pack(session, tmp_path)
    result = runner.invoke(args=["demo", "simulate", "--families", "12", "--days", "30",
                                 "--seed", "3"])
    assert result.exit_code == 0, result.output
    logged = session.scalar(select(func.count()).select_from(Interaction))
    assert logged > 100
    assert f"Simulated 12 families (12 new) over 30 days: {logged} new interactions" \
        in result.stdout
    again = runner.invoke(args=["demo", "simulate", "--families", "12", "--days", "30",
                                "--seed", "3"])
    assert "(0 new)" in again.stdout and ": 0 new interactions" in again.stdout
    trained = runner.invoke(args=["reco", "train", "--days", "60"])
    assert trained.exit_code == 0, trained.output
    version = artifacts.current_version(folder)
    assert version and f"Model {version}: {logged} interactions" in trained.stdout
    assert "Reading the interaction log" in trained.stderr  # the progress bar
    with app.app_context():
        assert services.reco_model().version == version


def test_bad_sizes_are_refused(runner):
    for args in (["demo", "simulate", "--families", "0"],
                 ["demo", "simulate", "--days", "-3"],
                 ["reco", "train", "--days", "0"],
                 ["reco", "evaluate", "--dataset", "simulated", "--families", "10"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, args


def test_simulations_are_demo_data_refused_in_production(app, runner):
    app.config["DEMO_DATA_ALLOWED"] = False
    result = runner.invoke(args=["demo", "simulate", "--families", "3"])
    assert result.exit_code == 1 and "refused in production" in result.output


def test_the_nightly_job_trains_a_new_artifact(app, session, session_factory, tmp_path):
    app.extensions["job_session_factory"] = session_factory
    load_pack(session, tmp_path)
    folder = Path(app.config["RECO_ARTIFACT_DIR"])
    [job] = [job for job in scheduler.JOBS if job.id == "reco-retrain"]
    job.func(app)
    first = artifacts.current_version(folder)
    assert first is not None and artifacts.load(folder).n_items == 99
    assert artifacts.load(folder).metrics["events"] == 0
    item = session.scalar(select(ContentItem.id).where(ContentItem.kind == "product"))
    with session.begin_nested():
        log.record(session, log.Event(kind="click", item_id=item, surface="email",
                                      idempotency_key="k1"))
    job.func(app)
    assert artifacts.current_version(folder) != first  # what it learned from changed
    assert artifacts.load(folder).metrics["events"] == 1


def test_the_online_command_prints_one_json_object(runner):
    result = runner.invoke(args=["reco", "online", "--json", "--families", "60"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"treatment_ctr", "control_ctr", "difference", "ci95"}


def test_demo_load_ends_with_simulated_families_and_a_first_model(app, runner, session,
                                                                  monkeypatch):
    """What `make run` does: the demo families (stubbed here: their own tests load them),
    the content pack, a small simulation and a model, so a newcomer sees suggestions."""
    from diary import demo
    from webapp import cli

    monkeypatch.setattr(demo, "load", lambda session, store: demo.DemoReport())
    monkeypatch.setattr(cli, "DEMO_SIMULATION", {"families": 10, "days": 20, "seed": 1})
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Simulated 10 families (10 new) over 20 days" in result.stdout
    model = artifacts.load(Path(app.config["RECO_ARTIFACT_DIR"]))
    assert model is not None and model.metrics["events"] == session.scalar(
        select(func.count()).select_from(Interaction)) > 0
    assert f"Model {model.version}" in result.stdout
