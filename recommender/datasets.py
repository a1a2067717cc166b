"""Interaction data sets for offline evaluation, split leave-last-one-out.

Protocol (the one the published MovieLens-100k figures use): each user's events sorted by time,
ties kept in the order they were recorded (a stable sort); the last event is the test item,
the one before it validates (tuning never sees the test item); ranking is over the full
catalogue with the items the user already has excluded.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Event:
    user: str
    item: str
    time: float
    group: int = -1  # e.g. the child's stage (a small int) when the event happened


@dataclass
class Split:
    """Users and items as 0-based indices; `train` holds all but each user's last event,
    `fit_for_validation` all but the last two (for tuning on `valid`)."""

    name: str
    n_users: int
    n_items: int
    train: sparse.csr_matrix
    fit_for_validation: sparse.csr_matrix
    valid: np.ndarray  # one item per user
    test: np.ndarray  # one item per user
    #: Optional context: the group (stage) of every training event and of each user at the
    #: time of the test/validation event, for stage-aware baselines.
    train_groups: sparse.csr_matrix | None = None
    valid_groups: np.ndarray | None = None
    test_groups: np.ndarray | None = None
    item_names: list[str] = field(default_factory=list)
    #: Every user's items in time order (validation and test items last), with each event's
    #: group: for models that read the order of a history (recency, what follows what).
    sequences: list[np.ndarray] = field(default_factory=list)
    sequence_groups: list[np.ndarray] = field(default_factory=list)
    sequence_times: list[np.ndarray] = field(default_factory=list)
    user_names: list[str] = field(default_factory=list)

    def prefixes(self, held_out: int) -> list[np.ndarray]:
        """Each user's sequence without its last `held_out` events (1: what the test ranks
        with, 2: what validation ranks with)."""
        return [seq[:-held_out] for seq in self.sequences]


def _matrix(pairs: Sequence[tuple[int, int]], shape: tuple[int, int]) -> sparse.csr_matrix:
    users = np.fromiter((u for u, _ in pairs), dtype=np.int32, count=len(pairs))
    items = np.fromiter((i for _, i in pairs), dtype=np.int32, count=len(pairs))
    matrix = sparse.csr_matrix((np.ones(len(pairs), dtype=np.float32), (users, items)),
                               shape=shape)
    matrix.data[:] = 1.0  # repeats count once: implicit feedback
    return matrix


def leave_last_out(name: str, events: Iterable[Event]) -> Split:
    """Split events (in recorded order) per user; users with fewer than three events are
    left out (they cannot give a training, a validation and a test event)."""
    by_user: dict[str, list[tuple[float, int, Event]]] = {}
    for order, event in enumerate(events):
        by_user.setdefault(event.user, []).append((event.time, order, event))
    users = sorted((u for u, rows in by_user.items() if len(rows) >= 3),
                   key=lambda u: (len(u), u))
    items = sorted({e.item for u in users for _, _, e in by_user[u]}, key=lambda i: (len(i), i))
    uidx = {u: n for n, u in enumerate(users)}
    iidx = {i: n for n, i in enumerate(items)}
    train: list[tuple[int, int]] = []
    early: list[tuple[int, int]] = []
    groups: list[tuple[int, int, int]] = []
    valid = np.empty(len(users), dtype=np.int32)
    test = np.empty(len(users), dtype=np.int32)
    valid_groups = np.empty(len(users), dtype=np.int32)
    test_groups = np.empty(len(users), dtype=np.int32)
    sequences: list[np.ndarray] = []
    sequence_groups: list[np.ndarray] = []
    sequence_times: list[np.ndarray] = []
    for user in users:
        rows = sorted(by_user[user], key=lambda row: row[0])  # stable: ties keep their order
        seq = [row[2] for row in rows]
        sequences.append(np.array([iidx[e.item] for e in seq], dtype=np.int32))
        sequence_groups.append(np.array([e.group for e in seq], dtype=np.int32))
        sequence_times.append(np.array([e.time for e in seq], dtype=np.float64))
        u = uidx[user]
        test[u], test_groups[u] = iidx[seq[-1].item], seq[-1].group
        valid[u], valid_groups[u] = iidx[seq[-2].item], seq[-2].group
        for event in seq[:-1]:
            train.append((u, iidx[event.item]))
            groups.append((u, iidx[event.item], event.group))
        early.extend((u, iidx[e.item]) for e in seq[:-2])
    shape = (len(users), len(items))
    group_matrix = None
    if any(g >= 0 for _, _, g in groups):
        group_matrix = sparse.csr_matrix(
            (np.fromiter((g + 1 for _, _, g in groups), dtype=np.int32),
             (np.fromiter((u for u, _, _ in groups), dtype=np.int32),
              np.fromiter((i for _, i, _ in groups), dtype=np.int32))), shape=shape)
    return Split(name, len(users), len(items), _matrix(train, shape), _matrix(early, shape),
                 valid, test, group_matrix,
                 valid_groups if group_matrix is not None else None,
                 test_groups if group_matrix is not None else None, items, sequences,
                 sequence_groups, sequence_times, users)


def movielens_100k_path() -> Path:
    """ml-100k.inter inside the recbole wheel (a test/bench extra, installed --no-deps)."""
    spec = importlib.util.find_spec("recbole")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "MovieLens-100k comes with the recbole wheel: "
            "pip install --no-deps recbole==1.2.1 (make install does it)")
    return Path(next(iter(spec.submodule_search_locations))) / \
        "dataset_example" / "ml-100k" / "ml-100k.inter"


def movielens_100k(path: Path | None = None) -> Split:
    """943 users, 1,682 items, 100,000 ratings; every rating is an interaction."""
    def events() -> Iterable[Event]:
        with (path or movielens_100k_path()).open(encoding="utf-8") as lines:
            next(lines)  # user_id:token item_id:token rating:float timestamp:float
            for line in lines:
                user, item, _rating, stamp = line.rstrip("\n").split("\t")
                yield Event(user, item, float(stamp))
    return leave_last_out("movielens-100k", events())
