"""The suggestion model: item-side signals fitted on the interaction log, blended by a ranker.

Everything here is item-based, so a family's newest clicks, saves and dismissals change their
next suggestions at once (no retraining), and a family with no history still gets a ranking:

* `ease`: a linear item model (EASE, Steck 2019) of the weighted profile × item matrix —
  weights by kind (purchase > add to cart > save > click, a dismissal negative), older events
  decayed;
* `cooc`: item–item co-occurrence (cosine of who interacted with both);
* `trans`: what follows what (an item's successors within `window` events);
* `content`: TF-IDF of the item's text, category, tags and interests, and how well it suits the
  family's declared interests (`interest`) and the interests and prices of what they went for
  (`taste`, `price`);
* `stage_pop` / `global_pop`: what families at the same stage (or anyone) go for;
* `stage_fit`, `size_fit`, `next_size`, `rebuy`: where the stage is in the item's window, whether
  the child's weight fits the item's size (and whether it is the next size up from the last
  one bought), and whether a consumable bought before is due again.

A profile's history becomes a row of `Contexts` (newest events weigh most: decay over
`tau` events); `features` gives every candidate's signals for each row; a `Ranker` (logistic
regression on logged impressions → clicks and purchases, or on held-out next items) blends
them into one score. Plain numpy/scipy/scikit-learn: no Flask, no database.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy import sparse

#: How much each kind of interaction says about wanting an item (impressions say nothing).
KIND_WEIGHTS: dict[str, float] = {"click": 1.0, "save": 2.0, "add_to_cart": 3.0,
                                  "purchase": 4.0, "dismiss": -2.0}
POSITIVE_KINDS = ("click", "save", "add_to_cart", "purchase")

#: The ranker's inputs, in order. The collaborative ones are compared within a request
#: (z-scored across its candidates): their scale grows with the length of a history.
FEATURES: tuple[str, ...] = ("ease", "cooc", "trans", "content", "seen", "interest", "taste",
                             "price", "stage_pop", "global_pop", "stage_fit", "size_fit",
                             "next_size", "rebuy")
ROW_NORMALISED: tuple[str, ...] = ("ease", "cooc", "trans", "content")
_ROW = np.array([name in ROW_NORMALISED for name in FEATURES])

#: Blend weights (on standardised features) until a ranker has been learned.
DEFAULT_WEIGHTS: dict[str, float] = {
    "ease": 0.7, "cooc": 0.1, "trans": 0.3, "content": 0.1, "seen": 0.2, "interest": 0.3,
    "taste": 0.2, "price": 0.1, "stage_pop": 0.5, "global_pop": 0.05, "stage_fit": 0.1,
    "size_fit": 0.4, "next_size": 0.8, "rebuy": 0.4}


@dataclass(frozen=True)
class Params:
    lam: float = 100.0  # EASE's L2 penalty
    tau: float = 20.0  # recency: an event `tau` events older weighs 1/e as much
    window: int = 3  # transitions: successors up to this many events later
    half_life_days: float = 180.0  # training matrix: older events count less
    default_cycle_days: float = 30.0  # a consumable is due again after this (until learned)

    def to_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class ItemSide:
    """What is known about the items besides interactions (all optional: MovieLens has none).
    Arrays have one entry per item; stage arrays one row per stage index."""

    n_items: int
    interests: np.ndarray | None = None  # n_items × n_interests, 0/1
    text: np.ndarray | None = None  # n_items × vocabulary, L2-normalised TF-IDF rows
    in_window: np.ndarray | None = None  # n_stages × n_items, bool
    window_fit: np.ndarray | None = None  # n_stages × n_items, 1 at the window's centre
    consumable: np.ndarray | None = None  # bool
    size_ladder: np.ndarray | None = None  # int, −1 unsized
    size_rank: np.ndarray | None = None  # int, −1 unsized
    size_min: np.ndarray | None = None  # kg, nan without weights
    size_max: np.ndarray | None = None
    price: np.ndarray | None = None  # log price minus the catalogue's mean log price


@dataclass
class Components:
    """The fitted item-side signals (all n_items × n_items unless said otherwise)."""

    ease: np.ndarray
    cooc: np.ndarray
    trans: np.ndarray
    content: np.ndarray  # 0 × 0 when the items have no text
    stage_pop: np.ndarray  # n_stages × n_items in [0, 1] (0 rows without stages)
    global_pop: np.ndarray  # n_items in [0, 1]
    cycle_days: np.ndarray  # n_items: typical days between repeat purchases

    ARRAYS = ("ease", "cooc", "trans", "content", "stage_pop", "global_pop", "cycle_days")

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.ARRAYS}


@dataclass
class Histories:
    """Interaction events grouped by profile (a child, or a person without one), each profile's
    events in time order: profile p owns rows offsets[p]:offsets[p + 1]. `weight` is the kind's
    weight (negative for a dismissal); `time` is in seconds (or the event's order)."""

    offsets: np.ndarray
    item: np.ndarray
    weight: np.ndarray
    time: np.ndarray
    stage: np.ndarray  # stage index at the time, −1 unknown
    purchase: np.ndarray  # bool

    @property
    def n_profiles(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_sequences(cls, sequences: Sequence[Sequence[int] | np.ndarray],
                       stages: Sequence[Sequence[int] | np.ndarray] | None = None
                       ) -> Histories:
        """Item sequences (as clicks, time = position) — the offline data sets."""
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        item = np.fromiter((i for s in sequences for i in s), dtype=np.int32,
                           count=int(offsets[-1]))
        time = np.concatenate([np.arange(n, dtype=np.float64) for n in lengths]) \
            if len(lengths) else np.zeros(0)
        stage = np.fromiter((g for s in stages for g in s), dtype=np.int32,
                            count=int(offsets[-1])) if stages is not None \
            else np.full(len(item), -1, dtype=np.int32)
        return cls(offsets, item, np.ones(len(item), dtype=np.float32), time, stage,
                   np.zeros(len(item), dtype=bool))

    def slice(self, profile: int) -> slice:
        return slice(int(self.offsets[profile]), int(self.offsets[profile + 1]))


# --- fitting -----------------------------------------------------------------------------------

def _profile_of_rows(history: Histories) -> np.ndarray:
    return np.repeat(np.arange(history.n_profiles), np.diff(history.offsets))


def interaction_matrix(history: Histories, n_items: int, params: Params,
                       now: float | None = None, seconds: bool = False) -> sparse.csr_matrix:
    """Profile × item: the sum of each event's kind weight, older events decayed (by
    `half_life_days` when times are seconds); what a profile dismissed more than it liked
    stays negative."""
    profiles = _profile_of_rows(history)
    weight = history.weight.astype(np.float64)
    if seconds and len(history.time):
        end = history.time.max() if now is None else now
        age_days = (end - history.time) / 86400.0
        weight = weight * np.power(0.5, np.maximum(age_days, 0) / params.half_life_days)
    matrix = sparse.csr_matrix((weight, (profiles, history.item)),
                               shape=(history.n_profiles, n_items))
    matrix.sum_duplicates()
    return matrix


def fit_ease(matrix: sparse.csr_matrix, lam: float) -> np.ndarray:
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = inverse / (-np.diag(inverse))
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


def fit_cooccurrence(matrix: sparse.csr_matrix) -> np.ndarray:
    binary = (matrix > 0).astype(np.float64).tocsc()
    counts = np.asarray(binary.sum(axis=0)).ravel()
    norms = np.sqrt(np.maximum(counts, 1.0))
    sim = (binary.T @ binary).toarray() / np.outer(norms, norms)
    np.fill_diagonal(sim, 0.0)
    return sim.astype(np.float32)


def positive_rows(history: Histories) -> np.ndarray:
    return np.flatnonzero(history.weight > 0)


def fit_transitions(history: Histories, n_items: int, window: int) -> np.ndarray:
    """Row i: how often each item came within `window` positive events after item i, as
    shares of row i (consecutive repeats of one item count once)."""
    rows = positive_rows(history)
    items = history.item[rows]
    profiles = _profile_of_rows(history)[rows]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (items[1:] != items[:-1]) | (profiles[1:] != profiles[:-1])
    items, profiles = items[keep], profiles[keep]
    counts = np.zeros((n_items, n_items), dtype=np.float64)
    for lag in range(1, window + 1):
        same = profiles[lag:] == profiles[:-lag]
        np.add.at(counts, (items[:-lag][same], items[lag:][same]), 1.0)
    np.fill_diagonal(counts, 0.0)
    totals = counts.sum(axis=1, keepdims=True)
    return (counts / np.maximum(totals, 1.0)).astype(np.float32)


def fit_popularity(history: Histories, n_items: int, n_stages: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct profiles with a positive event on each item, at each stage and overall, as
    log-scaled shares of the most popular item there (0–1)."""
    rows = positive_rows(history)
    profiles = _profile_of_rows(history)[rows]
    items = history.item[rows]
    pairs = np.unique(np.stack([profiles, items]), axis=1)
    overall = np.bincount(pairs[1], minlength=n_items).astype(np.float64)
    by_stage = np.zeros((n_stages, n_items), dtype=np.float64)
    stages = history.stage[rows]
    staged = stages >= 0
    if n_stages and staged.any():
        triples = np.unique(np.stack([profiles[staged], items[staged], stages[staged]]), axis=1)
        np.add.at(by_stage, (triples[2], triples[1]), 1.0)
        by_stage = _smooth(by_stage)
    return _log_share(by_stage), _log_share(overall[None, :])[0]


#: Neighbouring stages lend each other counts (a family at month 7 buys much what one at
#: month 6 or 8 does), so thinly populated stages still have a ranking.
NEIGHBOURS = {1: 0.5, 2: 0.25}


def _smooth(by_stage: np.ndarray) -> np.ndarray:
    out = by_stage.copy()
    for distance, share in NEIGHBOURS.items():
        out[distance:] += share * by_stage[:-distance]
        out[:-distance] += share * by_stage[distance:]
    return out


def _log_share(counts: np.ndarray) -> np.ndarray:
    logged = np.log1p(counts)
    top = logged.max(axis=1, keepdims=True) if counts.size else logged
    return (logged / np.maximum(top, 1e-9)).astype(np.float32)


def fit_cycles(history: Histories, n_items: int, default_days: float) -> np.ndarray:
    """Median days between one profile's repeat purchases of an item (the default for items
    nobody has bought twice)."""
    cycles = np.full(n_items, default_days, dtype=np.float32)
    rows = np.flatnonzero(history.purchase)
    if len(rows) < 2:
        return cycles
    profiles = _profile_of_rows(history)[rows]
    items, times = history.item[rows], history.time[rows]
    order = np.lexsort((times, items, profiles))
    profiles, items, times = profiles[order], items[order], times[order]
    same = (profiles[1:] == profiles[:-1]) & (items[1:] == items[:-1])
    gaps = (times[1:] - times[:-1])[same] / 86400.0
    gap_items = items[1:][same]
    for item in np.unique(gap_items):
        cycles[item] = max(1.0, float(np.median(gaps[gap_items == item])))
    return cycles


def fit_components(history: Histories, side: ItemSide, params: Params,
                   seconds: bool = False, now: float | None = None) -> Components:
    n = side.n_items
    n_stages = side.in_window.shape[0] if side.in_window is not None else 0
    matrix = interaction_matrix(history, n, params, now, seconds)
    if side.text is not None and side.text.shape[1]:
        content = (side.text @ side.text.T).astype(np.float32)
        np.fill_diagonal(content, 0.0)
    else:
        content = np.zeros((0, 0), dtype=np.float32)  # no item text: no content signal
    stage_pop, global_pop = fit_popularity(history, n, n_stages)
    return Components(
        ease=fit_ease(matrix, params.lam), cooc=fit_cooccurrence(matrix),
        trans=fit_transitions(history, n, params.window), content=content,
        stage_pop=stage_pop, global_pop=global_pop,
        cycle_days=fit_cycles(history, n, params.default_cycle_days))


# --- contexts and features ---------------------------------------------------------------------

@dataclass
class Contexts:
    """One row per request (or per user to evaluate): what the features read of a history.
    Build with `contexts`."""

    h: np.ndarray  # rows × n_items: recency-weighted kind weights (negative: dismissed)
    last: np.ndarray  # rows × window: latest positive items, newest first, −1 = none
    stage: np.ndarray  # rows: stage index, −1 unknown
    interests: np.ndarray  # rows × n_interests (0/1), or rows × 0
    weight_kg: np.ndarray  # rows: the child's latest weight, nan unknown
    days_since_purchase: np.ndarray  # rows × n_items, inf when never bought
    bought_rank: np.ndarray  # rows × n_ladders: highest size rank bought, −1 none
    taste: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # rows × n_interests
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rows: mean log price

    def profile(self, side: ItemSide) -> Contexts:
        """Fill `taste` (the interests of what the history went for, as shares) and `price`
        (their mean log price, around the catalogue's) from `h`."""
        liked = np.maximum(self.h, 0.0)
        total = liked.sum(axis=1)
        safe = np.maximum(total, 1e-12)
        if side.interests is not None:
            taste = liked @ side.interests
            self.taste = taste / np.maximum(taste.sum(axis=1, keepdims=True), 1e-12)
        else:
            self.taste = np.zeros((self.n_rows, 0))
        self.price = (liked @ side.price) / safe if side.price is not None \
            else np.zeros(self.n_rows)
        return self

    @property
    def n_rows(self) -> int:
        return self.h.shape[0]

    def _per_candidate(self, values: np.ndarray, cand: Candidates, missing: float
                       ) -> np.ndarray:
        if len(cand.index) == values.shape[1] and \
                bool((cand.index == np.arange(values.shape[1])).all()):
            return values
        out = np.full((self.n_rows, cand.count), missing, dtype=np.float64)
        known = cand.index >= 0
        out[:, known] = values[:, cand.index[known]]
        return out

    def seen(self, cand: Candidates) -> np.ndarray:
        """The candidates' own weights in the history (clicked, saved: > 0; dismissed: < 0)."""
        return self._per_candidate(self.h, cand, 0.0)

    def candidate_days(self, cand: Candidates) -> np.ndarray:
        """Days since each candidate was last bought (inf: never)."""
        return self._per_candidate(self.days_since_purchase, cand, np.inf)


@dataclass
class Row:
    """One history to score: positions `rows` of a `Histories` (events before the request)."""

    history: Histories
    start: int
    stop: int
    stage: int = -1
    interests: Sequence[int] = ()  # interest indices declared
    weight_kg: float = float("nan")
    now: float = 0.0  # seconds, for "days since bought"


def contexts(rows: Sequence[Row], side: ItemSide, params: Params, n_interests: int = 0,
             n_ladders: int = 0) -> Contexts:
    n, window = side.n_items, params.window
    count = len(rows)
    h = np.zeros((count, n), dtype=np.float64)
    last = np.full((count, window), -1, dtype=np.int64)
    interests = np.zeros((count, n_interests), dtype=np.float32)
    days = np.full((count, n), np.inf, dtype=np.float64)
    bought_rank = np.full((count, n_ladders), -1, dtype=np.int64)
    for r, row in enumerate(rows):
        history = row.history
        items = history.item[row.start:row.stop]
        weights = history.weight[row.start:row.stop]
        if len(items):
            age = np.arange(len(items) - 1, -1, -1, dtype=np.float64)
            np.add.at(h[r], items, weights * np.exp(-age / params.tau))
            positive = items[weights > 0]
            newest: list[int] = []
            for item in positive[::-1]:
                if not newest or newest[-1] != item:
                    newest.append(int(item))
                if len(newest) == window:
                    break
            last[r, :len(newest)] = newest
            bought = history.purchase[row.start:row.stop]
            if bought.any():
                when = history.time[row.start:row.stop][bought]
                what = items[bought]
                days[r, what] = (row.now - when) / 86400.0  # later purchases overwrite
                if n_ladders and side.size_ladder is not None and side.size_rank is not None:
                    ladders = side.size_ladder[what]
                    ranks = side.size_rank[what]
                    sized = ladders >= 0
                    np.maximum.at(bought_rank[r], ladders[sized], ranks[sized])
        for index in row.interests:
            if 0 <= index < n_interests:
                interests[r, index] = 1.0
    return Contexts(h, last, np.array([row.stage for row in rows], dtype=np.int64), interests,
                    np.array([row.weight_kg for row in rows], dtype=np.float64), days,
                    bought_rank).profile(side)


@dataclass
class Candidates:
    """The model's columns for the items to score: item–item signals from the fitted
    components (a product the model has never seen has zero columns, except its text), and the
    items' own attributes (as they are now: a product may have changed since training)."""

    index: np.ndarray  # c: each candidate's item index in the model, −1 for one it never saw
    ease: np.ndarray  # n_items × c
    cooc: np.ndarray
    trans: np.ndarray
    content: np.ndarray  # n_items × c, or 0 × c without item text
    stage_pop: np.ndarray  # n_stages × c
    global_pop: np.ndarray  # c
    cycle_days: np.ndarray  # c
    interests: np.ndarray | None = None  # c × n_interests
    window_fit: np.ndarray | None = None  # n_stages × c
    consumable: np.ndarray | None = None  # c
    size_ladder: np.ndarray | None = None  # c
    size_rank: np.ndarray | None = None
    size_min: np.ndarray | None = None
    size_max: np.ndarray | None = None
    price: np.ndarray | None = None  # c: log price around the catalogue's mean

    @property
    def count(self) -> int:
        return len(self.global_pop)

    @classmethod
    def of(cls, model: Components, side: ItemSide, index: np.ndarray | None = None
           ) -> Candidates:
        """Items `index` (default: all, without copying) of a fitted model."""
        every = index is None

        def col(matrix: np.ndarray) -> np.ndarray:
            return matrix if every or not matrix.size else matrix[:, index]

        def part(values: np.ndarray | None) -> np.ndarray | None:
            return values if values is None or every else values[index]

        return cls(
            index=np.arange(side.n_items) if index is None else np.asarray(index),
            ease=col(model.ease), cooc=col(model.cooc), trans=col(model.trans),
            content=col(model.content), stage_pop=col(model.stage_pop),
            global_pop=model.global_pop if every else model.global_pop[index],
            cycle_days=model.cycle_days if every else model.cycle_days[index],
            interests=part(side.interests),
            window_fit=None if side.window_fit is None else col(side.window_fit),
            consumable=part(side.consumable), size_ladder=part(side.size_ladder),
            size_rank=part(side.size_rank), size_min=part(side.size_min),
            size_max=part(side.size_max), price=part(side.price))


def features(ctx: Contexts, cand: Candidates) -> np.ndarray:
    """rows × candidates × len(FEATURES), raw (`normalise_rows` compares within a row)."""
    rows = ctx.n_rows
    out = np.zeros((rows, cand.count, len(FEATURES)), dtype=np.float64)
    col = {name: i for i, name in enumerate(FEATURES)}
    h = ctx.h.astype(np.float32)
    liked = np.maximum(h, 0.0)
    out[:, :, col["ease"]] = h @ cand.ease
    out[:, :, col["cooc"]] = liked @ cand.cooc
    if cand.content.size:
        out[:, :, col["content"]] = liked @ cand.content
    following = np.zeros((rows, cand.count), dtype=np.float32)
    for k in range(ctx.last.shape[1]):
        present = ctx.last[:, k] >= 0
        if present.any():
            following[present] += cand.trans[ctx.last[present, k]] / (k + 1)
    out[:, :, col["trans"]] = following
    out[:, :, col["seen"]] = ctx.seen(cand)
    if cand.interests is not None:
        counts = np.maximum(cand.interests.sum(axis=1), 1.0)
        if ctx.interests.shape[1]:
            out[:, :, col["interest"]] = (ctx.interests @ cand.interests.T) / counts
        if ctx.taste.shape[1]:
            out[:, :, col["taste"]] = (ctx.taste @ cand.interests.T) / counts
    if cand.price is not None:
        out[:, :, col["price"]] = ctx.price[:, None] * cand.price[None, :]
    staged = ctx.stage >= 0
    out[:, :, col["global_pop"]] = cand.global_pop
    if cand.stage_pop.shape[0] and staged.any():
        out[staged, :, col["stage_pop"]] = cand.stage_pop[ctx.stage[staged]]
    if cand.window_fit is not None and staged.any():
        out[staged, :, col["stage_fit"]] = cand.window_fit[ctx.stage[staged]]
    _size_features(ctx, cand, out, col["size_fit"], col["next_size"])
    if cand.consumable is not None:
        days = ctx.candidate_days(cand)
        due = np.where(np.isfinite(days), np.minimum(days / cand.cycle_days, 2.0), 0.0)
        out[:, :, col["rebuy"]] = due * cand.consumable
    return out


def _size_features(ctx: Contexts, cand: Candidates, out: np.ndarray, fit_col: int,
                   next_col: int) -> None:
    if cand.size_ladder is None or cand.size_rank is None or cand.size_min is None \
            or cand.size_max is None:
        return
    ladder, rank = cand.size_ladder, cand.size_rank
    low, high = cand.size_min, cand.size_max
    weight = ctx.weight_kg[:, None]
    known = np.isfinite(weight) & np.isfinite(low)[None, :]
    fits = known & (weight >= low) & (weight <= high)
    outgrown = known & (weight > high)
    out[:, :, fit_col] = np.where(fits, 1.0, np.where(outgrown, -1.0, 0.0))
    if not ctx.bought_rank.shape[1]:
        return
    sized = ladder >= 0
    bought = np.full((ctx.n_rows, cand.count), -1, dtype=np.int64)
    bought[:, sized] = ctx.bought_rank[:, ladder[sized]]
    larger = sized[None, :] & (bought >= 0) & (rank[None, :] > bought)
    weighed = np.isfinite(low)[None, :] & np.isfinite(weight)
    nxt = larger & np.where(weighed, fits, rank[None, :] == bought + 1)
    out[:, :, next_col] = nxt.astype(np.float64)


def normalise_rows(values: np.ndarray, usable: np.ndarray | None = None) -> np.ndarray:
    """Z-score the collaborative features within each row over its usable candidates."""
    out = values.copy()
    part = out[:, :, _ROW]
    if usable is None:
        mean = part.mean(axis=1, keepdims=True)
        std = part.std(axis=1, keepdims=True)
    else:
        weights = usable[:, :, None].astype(np.float64)
        count = np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
        mean = (part * weights).sum(axis=1, keepdims=True) / count
        std = np.sqrt((((part - mean) ** 2) * weights).sum(axis=1, keepdims=True) / count)
    out[:, :, _ROW] = (part - mean) / np.where(std > 1e-12, std, 1.0)
    return out


# --- the ranker --------------------------------------------------------------------------------

@dataclass
class Ranker:
    """A linear blend of standardised features: score = ((x − mean) / scale) · coef."""

    coef: np.ndarray
    mean: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    scale: np.ndarray = field(default_factory=lambda: np.ones(len(FEATURES)))
    source: str = "default"  # "default", "impressions" or "next-item"

    @classmethod
    def default(cls) -> Ranker:
        return cls(np.array([DEFAULT_WEIGHTS[name] for name in FEATURES]))

    def score(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.mean) / self.scale) @ self.coef

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """Each feature's share of the score (same shape as `values`)."""
        return ((values - self.mean) / self.scale) * self.coef

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source,
                "weights": {n: round(float(w), 6) for n, w in zip(FEATURES, self.coef,
                                                                  strict=True)}}


def fit_ranker(x: np.ndarray, y: np.ndarray, groups: np.ndarray, source: str,
               c: float = 1.0, max_pairs: int = 200_000, seed: int = 0) -> Ranker:
    """A pairwise logistic regression (RankNet's linear case): within each group (a request,
    or a user's candidates for one held-out item), every chosen item against the others,
    on standardised features. Comparing within a group ranks what one family chooses between,
    not which families choose more. The default blend when no group holds both a chosen and
    a passed-over item."""
    from sklearn.linear_model import LogisticRegression

    order = np.argsort(groups, kind="stable")
    x, y, groups = x[order], y[order], groups[order]
    bounds = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
    wins: list[np.ndarray] = []
    losses: list[np.ndarray] = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        chosen = np.flatnonzero(y[start:stop] > 0) + start
        passed = np.flatnonzero(y[start:stop] <= 0) + start
        if len(chosen) and len(passed):
            wins.append(np.repeat(chosen, len(passed)))
            losses.append(np.tile(passed, len(chosen)))
    if not wins:
        return Ranker.default()
    win, loss = np.concatenate(wins), np.concatenate(losses)
    if len(win) > max_pairs:
        keep = np.random.default_rng(seed).choice(len(win), max_pairs, replace=False)
        win, loss = win[keep], loss[keep]
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    diff = (x[win] - x[loss]) / scale
    model = LogisticRegression(C=c, max_iter=1000, fit_intercept=False)
    model.fit(np.concatenate([diff, -diff]), np.r_[np.ones(len(diff)), np.zeros(len(diff))])
    return Ranker(model.coef_[0].astype(np.float64), mean, scale, source)
