"""Our model as an offline scorer: the model's signals, blended by a ranker learned one step
before the events it is judged on.

For a leave-last-one-out split (`datasets.Split`) there are no logged impressions to learn the
blend from, so it learns from the next item instead: the signals are fitted on every user's
history without its last `held_out + 1` events, and a logistic regression learns to pick the
`held_out + 1`-th last event out of the candidates the signals rank highest (plus a few at
random). Then the signals are fitted again on the history the evaluation allows (all but the
test item; all but the validation and test items when validating) and scored with that blend.
The test item is never seen while learning anything.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from recommender.datasets import Split
from recommender.model import (
    Candidates,
    Components,
    Histories,
    ItemSide,
    Params,
    Ranker,
    Row,
    contexts,
    features,
    fit_components,
    fit_ranker,
    normalise_rows,
)

BATCH = 128
#: Negatives per target: every candidate when there are few (a stage's products), else a
#: random sample (a film catalogue).
ALL_NEGATIVES_UP_TO = 200
RANDOM_NEGATIVES = 50
#: Far below any blended score: what the rules rule out ranks last, never first.
OUTSIDE = -1e9


@dataclass
class Blend:
    """The evaluation's `Scorer` for our model on one split (`validation`: all but the last
    two events are history and the second last is the target)."""

    split: Split
    side: ItemSide | None = None
    params: Params = field(default_factory=Params)
    #: Each user's declared interests (indices), when the data set has them.
    user_interests: Sequence[Sequence[int]] | None = None
    #: Each user's child's weight as known at each event of the sequence (kg, nan unknown).
    user_weights: Sequence[np.ndarray] | None = None
    n_interests: int = 0
    n_ladders: int = 0
    validation: bool = False
    seed: int = 7
    name: str = "ours"
    ranker: Ranker = field(default_factory=Ranker.default)
    components: Components | None = None
    history: Histories | None = None

    @property
    def held_out(self) -> int:
        return 2 if self.validation else 1

    def _side(self) -> ItemSide:
        return self.side or ItemSide(self.split.n_items)

    def _history(self, held_out: int) -> Histories:
        return Histories.from_sequences(
            self.split.prefixes(held_out),
            [g[:-held_out] for g in self.split.sequence_groups]
            if self.split.sequence_groups else None)

    def fit(self, train: sparse.csr_matrix | None = None,
            groups: sparse.csr_matrix | None = None) -> Blend:
        self.ranker = self.learn_ranker(self.held_out + 1)
        self.history = self._history(self.held_out)
        self.components = fit_components(self.history, self._side(), self.params)
        return self

    def learn_ranker(self, held_out: int) -> Ranker:
        """The blend that best picks each user's `held_out`-th last item (see module doc)."""
        history = self._history(held_out)
        side = self._side()
        components = fit_components(history, side, self.params)
        users = [u for u, seq in enumerate(self.split.sequences) if len(seq) > held_out]
        targets = np.array([self.split.sequences[u][-held_out] for u in users])
        stages = np.array([self.split.sequence_groups[u][-held_out]
                           if self.split.sequence_groups else -1 for u in users])
        weights = self._weights(users, held_out)
        rng = np.random.default_rng(self.seed)
        xs, ys, gs = [], [], []
        for start in range(0, len(users), BATCH):
            batch = users[start:start + BATCH]
            values, usable = self._features(components, history, batch,
                                            stages[start:start + BATCH],
                                            weights[start:start + BATCH])
            for r, target in enumerate(targets[start:start + BATCH]):
                if not usable[r, target]:
                    continue  # a repeat, or outside the stage: nothing to learn here
                pool = np.flatnonzero(usable[r])
                pool = pool[pool != target]
                negatives = pool if len(pool) <= ALL_NEGATIVES_UP_TO else \
                    np.sort(rng.choice(pool, size=RANDOM_NEGATIVES, replace=False))
                xs.append(values[r, [target, *negatives]])
                ys.append(np.r_[1.0, np.zeros(len(negatives))])
                gs.append(np.full(len(negatives) + 1, start + r))
        if not xs:
            return Ranker.default()
        return fit_ranker(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs),
                          "next-item", seed=self.seed)

    def _weights(self, users: Sequence[int], held_out: int) -> np.ndarray:
        if self.user_weights is None:
            return np.full(len(users), np.nan)
        return np.array([self.user_weights[u][-held_out] for u in users])

    def _features(self, components: Components, history: Histories, users: Sequence[int],
                  stages: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        side = self._side()
        rows = [Row(history, int(history.offsets[u]), int(history.offsets[u + 1]),
                    stage=int(stage),
                    interests=self.user_interests[u] if self.user_interests else (),
                    weight_kg=float(weight))
                for u, stage, weight in zip(users, stages, weights, strict=True)]
        ctx = contexts(rows, side, self.params, self.n_interests, self.n_ladders)
        values = features(ctx, Candidates.of(components, side))
        usable = np.ones((len(rows), side.n_items), dtype=bool)
        for r, row in enumerate(rows):
            usable[r, history.item[row.start:row.stop]] = False
        if side.in_window is not None:
            staged = ctx.stage >= 0
            usable[staged] &= side.in_window[ctx.stage[staged]]
        return normalise_rows(values, usable), usable

    def scores(self, users: np.ndarray, seen: sparse.csr_matrix,
               groups: np.ndarray | None = None) -> np.ndarray:
        assert self.components is not None and self.history is not None, "fit first"
        stages = groups if groups is not None else np.full(len(users), -1)
        out = np.empty((len(users), self.split.n_items))
        for start in range(0, len(users), BATCH):
            batch = users[start:start + BATCH]
            values, usable = self._features(self.components, self.history, list(batch),
                                            np.asarray(stages[start:start + BATCH]),
                                            self._weights(list(batch), self.held_out))
            scored = self.ranker.score(values)
            scored[~usable] = OUTSIDE  # the evaluation masks what was seen; rules the rest
            out[start:start + BATCH] = scored
        return out
