"""MovieLens-100k under the published protocol: our baselines reproduce the known figures.

If popularity does not give HR@10 0.086 and NDCG@10 0.044–0.045, the split or the tie order
differs from the protocol, and no other number would mean anything.
"""
from __future__ import annotations

import pytest

from recommender import datasets, evaluation
from recommender.baselines import EASE, GlobalPopularity


@pytest.fixture(scope="module")
def movielens():
    try:
        return datasets.movielens_100k()
    except FileNotFoundError as error:
        pytest.fail(str(error))


def test_the_split_has_every_user_and_item(movielens):
    assert (movielens.n_users, movielens.n_items) == (943, 1682)
    assert movielens.train.nnz == 100_000 - 943  # the last rating of each user is the test


def test_popularity_reproduces_the_published_figures(movielens):
    result = evaluation.evaluate(GlobalPopularity().fit(movielens.train), movielens)
    assert round(result["hr@10"], 3) == 0.086
    assert result["ndcg@10"] == pytest.approx(0.0449, abs=0.0005)


def test_ease_reproduces_the_published_figures(movielens):
    result = evaluation.evaluate(EASE(200.0).fit(movielens.train), movielens)
    assert (round(result["hr@10"], 3), round(result["ndcg@10"], 3)) == (0.143, 0.073)
