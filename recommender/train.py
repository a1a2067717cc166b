"""Training the model from the interaction log.

`read_log(session, since, until)` reads a window of the log in chunks (keyset by id, so a
big log never sits in one result set) into arrays; `train(catalogue, log, people)` fits the
item signals on every non-impression event and learns the ranker on logged impressions:

* the signals are first fitted on the events before a cut-off (the first 70 % of the window's
  impressions), and the ranker learns, request by request, which shown items were then
  clicked, saved, put in the basket or bought within a day — with every feature computed
  from what the family had done before that impression (nothing from the future);
* then the signals are fitted again on the whole window, and kept with that ranker.

Too few impressions (a new site): the default blend. The result is a `Model`, which
`recommender.artifacts` saves and loads.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.stages import Stage
from diary.models import Entry, Measurement, User
from diary.vocabulary import INTERESTS
from recommender import catalogue as catalogue_module
from recommender.catalogue import LADDERS, Catalogue, Vocabulary, document, item_side
from recommender.catalogue import stage_index as index_of_stage
from recommender.model import (
    KIND_WEIGHTS,
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
from recommender.models import KINDS, Interaction

CHUNK = 50_000
#: A shown item counts as taken up when the family acts on it within this many seconds.
LABEL_SECONDS = 24 * 3600
MIN_IMPRESSIONS = 200
MAX_RANKER_REQUESTS = 6_000
RANKER_SHARE = 0.3  # the last share of the window's impressions teaches the ranker
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
IMPRESSION = _KIND_CODE["impression"]
PURCHASE = _KIND_CODE["purchase"]
_WEIGHT_OF_CODE = np.array([KIND_WEIGHTS.get(kind, 0.0) for kind in KINDS])


@dataclass
class Log:
    """Interactions as arrays (one entry per row), in time order."""

    user: np.ndarray  # int64, −1 none
    child: np.ndarray  # int64, −1 none
    item: np.ndarray  # product id
    kind: np.ndarray  # code: index in recommender.models.KINDS
    time: np.ndarray  # seconds since the epoch
    stage: np.ndarray  # index in catalogue.STAGES, −1 unknown
    request: np.ndarray  # int64 code of the request id, −1 none

    def __len__(self) -> int:
        return len(self.item)

    @classmethod
    def empty(cls) -> Log:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, np.zeros(0), z, z)

    @classmethod
    def build(cls, user: Sequence[int | None], child: Sequence[int | None], item: Sequence[int],
              kind: Sequence[str], time: Sequence[float], stage: Sequence[str | Stage | None],
              request: Sequence[str | None]) -> Log:
        requests: dict[str, int] = {}
        codes = np.array([-1 if r is None else requests.setdefault(r, len(requests))
                          for r in request], dtype=np.int64)
        log = cls(
            user=np.array([-1 if u is None else u for u in user], dtype=np.int64),
            child=np.array([-1 if c is None else c for c in child], dtype=np.int64),
            item=np.asarray(item, dtype=np.int64),
            kind=np.array([_KIND_CODE[k] for k in kind], dtype=np.int64),
            time=np.asarray(time, dtype=np.float64),
            stage=np.array([_stage(s) for s in stage], dtype=np.int64), request=codes)
        order = np.argsort(log.time, kind="stable")
        return cls(*(getattr(log, name)[order] for name in
                     ("user", "child", "item", "kind", "time", "stage", "request")))

    def __post_init__(self) -> None:
        #: Whose history a row belongs to: the child, or the person when there is none
        #: (encoded negative).
        self.profile = np.where(self.child >= 0, self.child, -1 - self.user)


def _stage(value: str | Stage | None) -> int:
    if value is None:
        return -1
    return index_of_stage(value if isinstance(value, Stage) else Stage.parse(value))


@dataclass
class People:
    """What is known about the people and children in the log: declared interests (by
    person) and logged weights (by child: times and kilograms, in time order)."""

    interests: dict[int, tuple[str, ...]] = field(default_factory=dict)
    weights: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def weight_at(self, child: int, when: float) -> float:
        times, kgs = self.weights.get(child, (np.zeros(0), np.zeros(0)))
        at = int(np.searchsorted(times, when, side="right")) - 1
        return float(kgs[at]) if at >= 0 else float("nan")


# --- reading the log ---------------------------------------------------------------------------

def read_log(session: Session, since: datetime, until: datetime, chunk: int = CHUNK,
             progress: Callable[[int, int], None] | None = None) -> Log:
    """The window's interactions, read `chunk` rows at a time; `progress(done, total)`."""
    window = (Interaction.occurred_at >= since, Interaction.occurred_at < until)
    total = session.scalar(select(func.count()).select_from(Interaction).where(*window)) or 0
    columns = (Interaction.id, Interaction.user_id, Interaction.child_id, Interaction.item_id,
               Interaction.kind, Interaction.occurred_at, Interaction.stage,
               Interaction.request_id)
    parts: dict[str, list[Any]] = {name: [] for name in
                                   ("user", "child", "item", "kind", "time", "stage",
                                    "request")}
    after, done = 0, 0
    while True:
        rows = session.execute(select(*columns).where(*window, Interaction.id > after)
                               .order_by(Interaction.id).limit(chunk)).all()
        if not rows:
            break
        for row in rows:
            parts["user"].append(row.user_id)
            parts["child"].append(row.child_id)
            parts["item"].append(row.item_id)
            parts["kind"].append(row.kind)
            parts["time"].append(row.occurred_at.timestamp())
            parts["stage"].append(row.stage)
            parts["request"].append(row.request_id)
        after = rows[-1].id
        done += len(rows)
        if progress:
            progress(done, total)
    return Log.build(**parts)


def read_people(session: Session, log: Log, until: datetime) -> People:
    """Declared interests of the people in the log, and the logged weights of its children."""
    people = People()
    users = [int(u) for u in np.unique(log.user[log.user >= 0])]
    for start in range(0, len(users), 500):
        for user_id, interests in session.execute(
                select(User.id, User.interests).where(User.id.in_(users[start:start + 500]))):
            people.interests[user_id] = tuple(interests or ())
    children = [int(c) for c in np.unique(log.child[log.child >= 0])]
    found: dict[int, list[tuple[float, float]]] = {}
    for start in range(0, len(children), 500):
        for child_id, at, kg in session.execute(
                select(Entry.child_id, Entry.occurred_at, Measurement.weight_kg)
                .join(Measurement, Measurement.entry_id == Entry.id)
                .where(Entry.child_id.in_(children[start:start + 500]),
                       Measurement.weight_kg.is_not(None), Entry.occurred_at < until)):
            if kg is not None:
                found.setdefault(child_id, []).append((at.timestamp(), kg))
    for child_id, rows in found.items():
        rows.sort()
        people.weights[child_id] = (np.array([t for t, _ in rows]),
                                    np.array([kg for _, kg in rows]))
    return people


# --- the model -------------------------------------------------------------------------------

@dataclass
class Model:
    """A trained model: what an artifact holds (see recommender.artifacts)."""

    version: str
    created_at: datetime
    window_from: datetime
    window_to: datetime
    params: Params
    item_ids: np.ndarray
    item_keys: list[str]
    side: ItemSide
    components: Components
    vocabulary: Vocabulary
    ranker: Ranker
    price_centre: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {int(item): n for n, item in enumerate(self.item_ids)}

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


@dataclass
class _Prepared:
    history: Histories
    profiles: np.ndarray  # profile key per history profile index
    profile_index: dict[int, int]


def _histories(log: Log, catalogue: Catalogue, keep: np.ndarray) -> _Prepared:
    """The non-impression events in `keep`, as per-profile histories of catalogue indices."""
    index = np.full(int(log.item.max(initial=0)) + 1, -1, dtype=np.int64)
    for product_id, position in catalogue.index.items():
        if product_id < len(index):
            index[product_id] = position
    items = index[log.item]
    mask = keep & (log.kind != IMPRESSION) & (items >= 0) & (_WEIGHT_OF_CODE[log.kind] != 0)
    profile_key = log.profile[mask]
    order = np.lexsort((log.time[mask], profile_key))
    profile_key = profile_key[order]
    keys, starts = np.unique(profile_key, return_index=True)
    offsets = np.r_[starts, len(profile_key)].astype(np.int64)
    history = Histories(offsets=offsets, item=items[mask][order].astype(np.int32),
                        weight=_WEIGHT_OF_CODE[log.kind[mask][order]].astype(np.float32),
                        time=log.time[mask][order], stage=log.stage[mask][order],
                        purchase=log.kind[mask][order] == PURCHASE)
    return _Prepared(history, keys, {int(k): n for n, k in enumerate(keys)})


def train(catalogue: Catalogue, log: Log, people: People | None = None,
          params: Params | None = None, *, now: datetime | None = None,
          window: tuple[datetime, datetime] | None = None, version: str | None = None,
          progress: Callable[[str], None] | None = None) -> Model:
    params = params or Params()
    people = people or People()
    say = progress or (lambda step: None)
    created = now or datetime.now(UTC)
    vocabulary = Vocabulary.fit([document(p) for p in catalogue.products])
    side = item_side(catalogue.products, vocabulary)
    end = float(log.time.max()) if len(log) else created.timestamp()

    say("ranker")
    ranker, ranker_metrics = _learn_ranker(catalogue, log, people, params, side)
    say("signals")
    prepared = _histories(log, catalogue, np.ones(len(log), dtype=bool))
    components = fit_components(prepared.history, side, params, seconds=True, now=end)
    impressions = int((log.kind == IMPRESSION).sum())
    metrics = {"events": len(log), "impressions": impressions,
               "profiles": prepared.history.n_profiles,
               "history_events": int(len(prepared.history.item)), **ranker_metrics,
               "ranker": ranker.to_dict()}
    start = window[0] if window else (datetime.fromtimestamp(float(log.time.min()), UTC)
                                      if len(log) else created)
    stop = window[1] if window else created
    return Model(
        version=version or created.strftime("%Y%m%dT%H%M%SZ"), created_at=created,
        window_from=start, window_to=stop, params=params,
        item_ids=np.array([p.id for p in catalogue.products], dtype=np.int64),
        item_keys=[p.key for p in catalogue.products], side=side, components=components,
        vocabulary=vocabulary, ranker=ranker,
        price_centre=catalogue_module.price_centre(catalogue.products),
        metrics=metrics)


def _labels(log: Log, impressions: np.ndarray) -> np.ndarray:
    """1 where the family acted on the shown item (click, save, basket, purchase) within
    LABEL_SECONDS after it was shown."""
    positive = np.flatnonzero(_WEIGHT_OF_CODE[log.kind] > 0)
    if not len(positive) or not len(impressions):
        return np.zeros(len(impressions))
    # (profile, item) pairs as small dense codes, so code × 2**33 + seconds fits in int64
    both = np.concatenate([positive, impressions])
    _, codes = np.unique(np.stack([log.profile[both], log.item[both]]), axis=1,
                         return_inverse=True)
    codes = codes.ravel().astype(np.int64)
    seconds = log.time[both].astype(np.int64)
    pos_code, pos_time = codes[:len(positive)], seconds[:len(positive)]
    imp_code, imp_time = codes[len(positive):], seconds[len(positive):]
    order = np.lexsort((pos_time, pos_code))
    pos_code, pos_time = pos_code[order], pos_time[order]
    # the first positive of the same (profile, item) at or after the impression
    at = np.searchsorted(pos_code * 2 ** 33 + pos_time, imp_code * 2 ** 33 + imp_time)
    found = at < len(pos_code)
    at = np.minimum(at, len(pos_code) - 1)
    hit = found & (pos_code[at] == imp_code) & (pos_time[at] - imp_time <= LABEL_SECONDS)
    return hit.astype(np.float64)


def _learn_ranker(catalogue: Catalogue, log: Log, people: People, params: Params,
                  side: ItemSide) -> tuple[Ranker, dict[str, Any]]:
    index = {pid: n for n, pid in enumerate(p.id for p in catalogue.products)}
    shown = np.flatnonzero((log.kind == IMPRESSION) & (log.stage >= 0)
                           & np.isin(log.item, list(index)))
    if len(shown) < MIN_IMPRESSIONS:
        return Ranker.default(), {"ranker_impressions": int(len(shown))}
    cutoff = float(np.quantile(log.time[shown], 1 - RANKER_SHARE))
    early = _histories(log, catalogue, log.time < cutoff)
    components = fit_components(early.history, side, params, seconds=True, now=cutoff)
    late = shown[log.time[shown] >= cutoff]
    requests = np.where(log.request[late] >= 0, log.request[late], -2 - late)
    chosen = np.unique(requests)
    rng = np.random.default_rng(0)
    if len(chosen) > MAX_RANKER_REQUESTS:
        chosen = rng.choice(chosen, MAX_RANKER_REQUESTS, replace=False)
    late = late[np.isin(requests, chosen)]
    requests = np.where(log.request[late] >= 0, log.request[late], -2 - late)
    labels = _labels(log, late)
    # every impression's features from the history before it (all events, to the second)
    full = _histories(log, catalogue, np.ones(len(log), dtype=bool))
    position = {code: n for n, code in enumerate(INTERESTS)}
    rows: list[Row] = []
    empty = Histories(np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int32),
                      np.zeros(0, dtype=np.float32), np.zeros(0), np.zeros(0, dtype=np.int64),
                      np.zeros(0, dtype=bool))
    for i in late:
        profile = int(log.profile[i])
        p = full.profile_index.get(profile)
        t = float(log.time[i])
        if p is None:
            row = Row(empty, 0, 0)
        else:
            start, stop = int(full.history.offsets[p]), int(full.history.offsets[p + 1])
            stop = start + int(np.searchsorted(full.history.time[start:stop], t, side="left"))
            row = Row(full.history, start, stop)
        user = int(log.user[i])
        row.stage = int(log.stage[i])
        row.interests = [position[c] for c in people.interests.get(user, ()) if c in position]
        row.weight_kg = people.weight_at(int(log.child[i]), t) if log.child[i] >= 0 \
            else float("nan")
        row.now = t
        rows.append(row)
    xs = []
    cand = Candidates.of(components, side)
    for start in range(0, len(rows), 512):
        batch = rows[start:start + 512]
        ctx = contexts(batch, side, params, len(INTERESTS), len(LADDERS))
        values = features(ctx, cand)
        usable = np.zeros((len(batch), side.n_items), dtype=bool)
        if side.in_window is not None:
            usable = side.in_window[ctx.stage]
        values = normalise_rows(values, usable)
        picked = np.array([index[int(log.item[i])] for i in late[start:start + 512]])
        xs.append(values[np.arange(len(batch)), picked])
    x = np.concatenate(xs)
    groups = requests
    # hold a fifth of the requests out to say how well the ranker orders what it never saw
    held = np.isin(groups, rng.choice(np.unique(groups), max(1, len(np.unique(groups)) // 5),
                                      replace=False))
    ranker = fit_ranker(x[~held], labels[~held], groups[~held], "impressions")
    metrics = {"ranker_impressions": int(len(late)), "ranker_ctr": round(float(labels.mean()), 4),
               "ranker_pair_accuracy": _pair_accuracy(ranker, x[held], labels[held],
                                                      groups[held])}
    if ranker.source != "impressions":
        return Ranker.default(), metrics
    return ranker, metrics


def _pair_accuracy(ranker: Ranker, x: np.ndarray, y: np.ndarray, groups: np.ndarray
                   ) -> float | None:
    """Share of (taken up, passed over) pairs within a request that the ranker orders right."""
    if not len(x):
        return None
    scores = ranker.score(x)
    right = total = 0
    for group in np.unique(groups):
        members = groups == group
        good, bad = scores[members & (y > 0)], scores[members & (y <= 0)]
        if len(good) and len(bad):
            right += int((good[:, None] > bad[None, :]).sum())
            total += len(good) * len(bad)
    return round(right / total, 4) if total else None
