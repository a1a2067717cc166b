"""Offline evaluation: leave-last-one-out, full ranking, top k (see `datasets`).

`evaluate(scorer, split)` scores every user's test item against the whole catalogue with the
user's training items excluded, and returns HR@k, NDCG@k, MAP@k, catalogue coverage and
novelty. `tune` picks a hyper-parameter on the validation items with a model fitted on the
events before them, so the test item is never seen while choosing.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from recommender import metrics
from recommender.baselines import Scorer
from recommender.datasets import Split

BATCH = 512


def top_k(scorer: Scorer, users: np.ndarray, seen: sparse.csr_matrix, k: int,
          groups: np.ndarray | None) -> np.ndarray:
    """Each user's k best unseen items, ties by item index (stable)."""
    scores = scorer.scores(users, seen, groups).astype(np.float64, copy=True)
    rows = seen[users].tocoo()
    scores[rows.row, rows.col] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def evaluate(scorer: Scorer, split: Split, k: int = 10, *, validation: bool = False
             ) -> dict[str, float]:
    seen = split.fit_for_validation if validation else split.train
    targets = split.valid if validation else split.test
    groups = split.valid_groups if validation else split.test_groups
    lists: list[list[int]] = []
    for start in range(0, split.n_users, BATCH):
        users = np.arange(start, min(start + BATCH, split.n_users))
        lists.extend(top_k(scorer, users, seen, k,
                           groups[users] if groups is not None else None).tolist())
    relevant = [{int(t)} for t in targets]
    n = len(lists)
    popularity = dict(enumerate(np.asarray(seen.sum(axis=0)).ravel().astype(int).tolist()))
    return {
        f"hr@{k}": sum(metrics.hit_rate_at_k(r, t, k) for r, t in zip(lists, relevant,
                                                                       strict=True)) / n,
        f"ndcg@{k}": sum(metrics.ndcg_at_k(r, t, k) for r, t in zip(lists, relevant,
                                                                     strict=True)) / n,
        f"map@{k}": sum(metrics.average_precision_at_k(r, t, k)
                        for r, t in zip(lists, relevant, strict=True)) / n,
        "coverage": metrics.catalogue_coverage(lists, split.n_items, k),
        "novelty": metrics.novelty(lists, popularity, split.n_users, k),
    }


def tune(make: Callable[[Any], Scorer], grid: Sequence[Any], split: Split, k: int = 10,
         metric: str = "ndcg@10") -> tuple[Any, dict[Any, float]]:
    """The grid value with the best validation `metric` (fitted without the last two events
    of every user), and every value's score."""
    results = {}
    for value in grid:
        scorer = make(value).fit(split.fit_for_validation, _groups(split, validation=True))
        results[value] = evaluate(scorer, split, k, validation=True)[metric]
    best = max(grid, key=lambda value: results[value])
    return best, results


def _groups(split: Split, validation: bool) -> sparse.csr_matrix | None:
    if split.train_groups is None:
        return None
    if not validation:
        return split.train_groups
    mask = split.fit_for_validation.multiply(split.train_groups > 0)
    return split.train_groups.multiply(mask > 0).tocsr()
