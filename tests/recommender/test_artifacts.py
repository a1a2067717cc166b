"""Artifacts: numbers in .npz and words in JSON (nothing pickled), a version per folder,
CURRENT naming the newest, and long-running workers picking up a new one without a restart."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from recommender import artifacts, catalogue, train
from recommender.artifacts import ArtifactError, ArtifactStore
from recommender.model import FEATURES
from tests.fake_clock import FakeMonotonic

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def products():
    return catalogue.from_pack()


def trained(products, version="v1", **extra):
    log = train.Log.build(user=[1, 1], child=[7, 7], item=[1, 2], kind=["click", "purchase"],
                          time=[NOW.timestamp() - 60, NOW.timestamp()],
                          stage=["month:3", "month:3"], request=["r1", None])
    return train.train(products, log, now=NOW, version=version, **extra)


def test_a_model_round_trips_exactly(tmp_path, products):
    model = trained(products)
    folder = artifacts.save(model, tmp_path)
    assert folder.parent == tmp_path and folder.name == model.version
    assert model.version.startswith("v1-") and len(model.version) == len("v1-") + 8
    assert (tmp_path / "CURRENT").read_text() == model.version + "\n"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["features"] == list(FEATURES) and meta["item_keys"][0] == "BJ-BATH-001"
    assert meta["window"]["to"] == NOW.isoformat() and meta["metrics"]["events"] == 2
    loaded = artifacts.load(tmp_path)
    assert loaded.version == model.version and loaded.params == model.params
    assert loaded.item_keys == model.item_keys and loaded.metrics == model.metrics
    for name, value in model.components.arrays().items():
        assert np.array_equal(getattr(loaded.components, name), value), name
    assert np.array_equal(loaded.side.in_window, model.side.in_window)
    assert np.array_equal(loaded.ranker.coef, model.ranker.coef)
    assert loaded.vocabulary.terms == model.vocabulary.terms
    assert loaded.index[1] == 0 and loaded.created_at == NOW


def test_the_newest_is_current_and_old_ones_are_pruned(tmp_path, products):
    names = [artifacts.save(trained(products, f"v{n}"), tmp_path, keep=2).name
             for n in range(1, 5)]
    assert artifacts.current_version(tmp_path) == names[-1]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(names[-2:])
    assert artifacts.load(tmp_path, names[-2]).version == names[-2]
    # without CURRENT the newest folder is used
    (tmp_path / "CURRENT").unlink()
    assert artifacts.current_version(tmp_path) == names[-1]


def test_nothing_there_is_no_model(tmp_path):
    assert artifacts.load(tmp_path / "missing") is None
    assert artifacts.load(tmp_path) is None


def test_damaged_or_foreign_artifacts_are_refused(tmp_path, products):
    folder = artifacts.save(trained(products), tmp_path)
    with pytest.raises(ArtifactError):
        artifacts.load(tmp_path, "../etc")
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps(meta | {"format": 99}))
    with pytest.raises(ArtifactError, match="another format"):
        artifacts.load(tmp_path)
    (folder / "model.json").write_text(json.dumps(meta))
    # an array of Python objects would need pickle to load: refused, never unpickled
    np.savez(folder / "arrays.npz", item_ids=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ArtifactError, match="cannot be read"):
        artifacts.load(tmp_path)
    (folder / "arrays.npz").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="cannot be read"):
        artifacts.load(tmp_path)


def test_a_worker_picks_up_a_new_model_after_the_check_interval(tmp_path, products):
    clock, errors = FakeMonotonic(), []
    store = ArtifactStore(tmp_path, check_seconds=30, timer=clock, on_error=errors.append)
    assert store.current() is None  # nothing trained yet
    first = artifacts.save(trained(products, "v1"), tmp_path).name
    clock.now = 10
    assert store.current() is None  # not looked again yet
    clock.now = 31
    assert store.current().version == first
    second = artifacts.save(trained(products, "v2"), tmp_path).name
    clock.now = 40
    assert store.current().version == first
    clock.now = 61.5
    assert store.current().version == second
    # a damaged new version: the worker keeps serving the one it has, and says so
    (tmp_path / second / "arrays.npz").write_bytes(b"broken")
    (tmp_path / "CURRENT").unlink()
    (tmp_path / "CURRENT").write_text(second + "\n")
    clock.now = 100
    assert store.current().version == second and len(errors) == 1
    assert "cannot be read" in str(errors[0])


def test_a_bad_version_name_is_refused(tmp_path, products):
    with pytest.raises(ArtifactError, match="bad version name"):
        artifacts.save(trained(products, "../escape"), tmp_path)
    assert not any(tmp_path.iterdir()) or all(p.name.startswith(".") for p in tmp_path.iterdir())
