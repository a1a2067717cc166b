"""The yardsticks our model must beat, each a small class with `fit` and `scores`.

All work on an implicit-feedback user × item matrix (CSR, 1 = the user has the item).
`scores(users, seen)` returns a dense (len(users), n_items) array; the evaluation masks what
each user already has. Ties rank by item index (a stable sort), as in the published figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from scipy import sparse


class Scorer(Protocol):
    name: str

    def fit(self, train: sparse.csr_matrix, groups: sparse.csr_matrix | None = None
            ) -> Scorer: ...

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray: ...


@dataclass
class GlobalPopularity:
    """Items by how many users have them."""

    name: str = "popularity"
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, train: sparse.csr_matrix, groups: sparse.csr_matrix | None = None
            ) -> GlobalPopularity:
        self.counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float64)
        return self

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))


@dataclass
class StagePopularity:
    """Items by how many users had them while in the same stage as this user now; global
    popularity breaks ties and covers stages nobody has been in."""

    name: str = "stage-popularity"
    by_group: dict[int, np.ndarray] = field(default_factory=dict)
    overall: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, train: sparse.csr_matrix, groups: sparse.csr_matrix | None = None
            ) -> StagePopularity:
        if groups is None:
            raise ValueError("stage popularity needs the stage of every training event")
        self.overall = np.asarray(train.sum(axis=0)).ravel().astype(np.float64)
        coo = groups.tocoo()
        n_items = train.shape[1]
        self.by_group = {}
        for group in np.unique(coo.data):
            mask = coo.data == group
            self.by_group[int(group) - 1] = np.bincount(coo.col[mask], minlength=n_items) \
                .astype(np.float64)
        return self

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray:
        if groups is None:
            raise ValueError("stage popularity needs each user's stage")
        tie_break = self.overall / (self.overall.max() + 1.0)  # < 1: never outranks a count
        empty = np.zeros_like(self.overall)
        return np.vstack([self.by_group.get(int(g), empty) + tie_break for g in groups])


@dataclass
class ItemKNN:
    """Item-based neighbours: cosine similarity of item columns, the `k` nearest kept."""

    k: int = 100
    name: str = "item-knn"
    similarity: sparse.csr_matrix | None = None

    def fit(self, train: sparse.csr_matrix, groups: sparse.csr_matrix | None = None) -> ItemKNN:
        x = train.astype(np.float64).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        sim = (x.T @ x).toarray() / np.outer(norms, norms)
        np.fill_diagonal(sim, 0.0)
        if self.k < sim.shape[1]:
            drop = np.argpartition(-sim, self.k, axis=1)[:, self.k:]
            np.put_along_axis(sim, drop, 0.0, axis=1)
        self.similarity = sparse.csr_matrix(sim)
        return self

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray:
        assert self.similarity is not None
        return np.asarray((seen[users] @ self.similarity.T).todense())


@dataclass
class EASE:
    """Embarrassingly Shallow Autoencoder (Steck 2019): B = I − P·diag(1/diag(P)) with
    P = (XᵀX + λI)⁻¹, zero diagonal. Closed form; λ is tuned on validation."""

    lam: float = 200.0
    name: str = "ease"
    weights: np.ndarray | None = None

    def fit(self, train: sparse.csr_matrix, groups: sparse.csr_matrix | None = None) -> EASE:
        gram = (train.T @ train).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        inverse = np.linalg.inv(gram)
        weights = inverse / (-np.diag(inverse))
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights
        return self

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray:
        assert self.weights is not None
        return np.asarray(seen[users] @ self.weights)
