"""Suggestions for one child: candidates, scores, rules and a reason for each.

    suggest(session, model, user, child, today, k=10, surface="child_page", mode="model")
        -> list[Suggestion]

reads what ranking needs (the stage's live products, the child's and the person's history,
the latest weight, the person's interests) in three light queries and calls `rank`, which
needs no database (the online simulation calls it directly).

Candidates are the live, on-sale products whose window holds the child's stage. Ranking:
`mode="model"` scores them with the trained model (`model` from
`artifacts.ArtifactStore.current()`; with no model yet, as the control does);
`mode="control"` ranks by stage popularity alone — for the holdout (`in_control`) and for
people who turned personalised suggestions off. The rules hold in both modes, after scoring:
never outside the stage window, never an inactive or unpublished item, nothing the family
dismissed, no one-off product they bought (consumables may come again), at most
`per_category` from one category.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
from sqlalchemy import BindParameter, and_, bindparam, or_, select, text
from sqlalchemy.orm import Session

from clock import utcnow
from content import sizes
from content.library import live
from content.models import ContentItem, Translation
from content.stages import Stage, stage_of
from diary.models import Child, Entry, Measurement, User
from diary.vocabulary import INTERESTS
from recommender import reasons
from recommender.catalogue import (
    LADDERS,
    STAGES,
    Product,
    centrality,
    document,
    interest_matrix,
    price_offsets,
    size_arrays,
    stage_index,
)
from recommender.model import (
    FEATURES,
    KIND_WEIGHTS,
    Candidates,
    Histories,
    Row,
    contexts,
    features,
    normalise_rows,
)
from recommender.models import ACTIONS, SURFACES, Interaction
from recommender.reasons import Reason
from recommender.train import Model

MODES = ("model", "control")
CONTROL_VERSION = "control"  # the model_version logged for the control's suggestions
FALLBACK_VERSION = "none"  # the model_version before any model was trained
PER_CATEGORY = 3
HISTORY_LIMIT = 300
_F = {name: n for n, name in enumerate(FEATURES)}
#: Which of a family's actions on an anchor item a "because you …" reason names, strongest
#: first.
_ANCHOR_REASONS = (("purchase", reasons.BECAUSE_BOUGHT), ("add_to_cart", reasons.BECAUSE_BASKET),
                   ("save", reasons.BECAUSE_SAVED), ("click", reasons.BECAUSE_VIEWED))


@dataclass(frozen=True)
class Suggestion:
    item_id: int
    key: str
    category: str
    position: int  # 0-based, as shown
    score: float
    reason: Reason
    model_version: str  # log it with the impression: "control" for the control's lists
    mode: str


@dataclass(frozen=True)
class Past:
    """One thing the family did (impressions are not history)."""

    item_id: int
    kind: str
    at: datetime


@dataclass
class Request:
    """Everything `rank` needs; `history` oldest first."""

    stage: Stage
    candidates: Sequence[Product]
    history: Sequence[Past] = ()
    interests: Sequence[str] = ()
    weight_kg: float | None = None
    now: datetime = field(default_factory=utcnow)
    k: int = 10
    per_category: int = PER_CATEGORY


def in_control(family_id: int, share: float) -> bool:
    """Whether a family sees the control's suggestions: a stable share of families (the
    same family always on the same side, both parents together), as campaign holdouts."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(f"reco-control:{family_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < share


# --- ranking without a database ---------------------------------------------------------------

def rank(model: Model | None, request: Request, mode: str = "model") -> list[Suggestion]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    s = stage_index(request.stage)
    dismissed = {p.item_id for p in request.history if p.kind == "dismiss"}
    bought = {p.item_id for p in request.history if p.kind == "purchase"}
    eligible = [p for p in request.candidates
                if p.active and p.live and p.in_window(request.stage)
                and p.id not in dismissed and (p.consumable or p.id not in bought)]
    if not eligible or request.k <= 0:
        return []
    if mode == "control" or model is None:
        scores = _control_scores(model, eligible, s)
        version = CONTROL_VERSION if mode == "control" else FALLBACK_VERSION
        chosen = _pick(eligible, scores, request.k, request.per_category)
        return [Suggestion(p.id, p.key, p.category, n, float(scores[j]),
                           reasons.popular_at(request.stage), version, mode)
                for n, (j, p) in enumerate(chosen)]
    block, index = _block(model, eligible, s)
    row, history = _context_row(model, request, s)
    ctx = contexts([row], model.side, model.params, len(INTERESTS), len(LADDERS))
    values = normalise_rows(features(ctx, block))[0]
    scores = model.ranker.score(values)
    chosen = _pick(eligible, scores, request.k, request.per_category)
    return [Suggestion(p.id, p.key, p.category, n, float(scores[j]),
                       _reason(model, request, p, index[j], values[j], ctx.h[0], history),
                       model.version, mode)
            for n, (j, p) in enumerate(chosen)]


def _pick(products: Sequence[Product], scores: np.ndarray, k: int, per_category: int
          ) -> list[tuple[int, Product]]:
    """The best k, at most `per_category` from one category (ties by key, so stable)."""
    order = sorted(range(len(products)), key=lambda j: (-scores[j], products[j].key))
    taken: dict[str, int] = {}
    chosen = []
    for j in order:
        product = products[j]
        if taken.get(product.category, 0) >= per_category:
            continue
        taken[product.category] = taken.get(product.category, 0) + 1
        chosen.append((j, product))
        if len(chosen) == k:
            break
    return chosen


def _control_scores(model: Model | None, products: Sequence[Product], s: int) -> np.ndarray:
    """Stage popularity (overall popularity breaks ties); before any model, the catalogue's
    own order: narrow windows first."""
    if model is None:
        return -np.array([(p.window_to or 0) - (p.window_from or 0) for p in products],
                         dtype=np.float64)
    index = np.array([model.index.get(p.id, -1) for p in products])
    known = index >= 0
    scores = np.zeros(len(products))
    comp = model.components
    if s >= 0 and comp.stage_pop.shape[0]:
        scores[known] = comp.stage_pop[s, index[known]]
    scores[known] += 1e-3 * comp.global_pop[index[known]]
    return scores


def _block(model: Model, products: Sequence[Product], s: int
           ) -> tuple[Candidates, np.ndarray]:
    """The model's columns for these products, with their attributes as they are now; a
    product the model never saw gets its text's likeness to the ones it did."""
    comp, c = model.components, len(products)
    index = np.array([model.index.get(p.id, -1) for p in products], dtype=np.int64)
    known = index >= 0

    def columns(matrix: np.ndarray) -> np.ndarray:
        out = np.zeros((matrix.shape[0], c), dtype=np.float32)
        out[:, known] = matrix[:, index[known]]
        return out

    content = columns(comp.content) if comp.content.size else np.zeros((0, c))
    if comp.content.size and not known.all() and model.side.text is not None:
        fresh = [p for p, k in zip(products, known, strict=True) if not k]
        vectors = model.vocabulary.transform(document(p) for p in fresh)
        content[:, ~known] = (model.side.text @ vectors.T).astype(np.float32)
    window_fit = np.zeros((len(STAGES), c), dtype=np.float32)
    if s >= 0:
        window_fit[s] = [centrality(p, STAGES[s].value) for p in products]
    global_pop = np.zeros(c, dtype=np.float32)
    global_pop[known] = comp.global_pop[index[known]]
    cycle = np.full(c, model.params.default_cycle_days, dtype=np.float32)
    cycle[known] = comp.cycle_days[index[known]]
    sized = size_arrays(products)
    return Candidates(
        index=index, ease=columns(comp.ease), cooc=columns(comp.cooc),
        trans=columns(comp.trans), content=content, stage_pop=columns(comp.stage_pop),
        global_pop=global_pop, cycle_days=cycle, interests=interest_matrix(products),
        window_fit=window_fit, consumable=np.array([p.consumable for p in products]),
        size_ladder=sized.ladder, size_rank=sized.rank, size_min=sized.low,
        size_max=sized.high, price=price_offsets(products, model.price_centre)), index


def _context_row(model: Model, request: Request, s: int) -> tuple[Row, dict[int, set[str]]]:
    """The family's history as one row of the model's items (products it never saw carry no
    item-to-item signal), and what they did to each item."""
    done: dict[int, set[str]] = {}
    items, weights, times, bought = [], [], [], []
    for past in request.history:
        weight = KIND_WEIGHTS.get(past.kind, 0.0)
        known = model.index.get(past.item_id)
        done.setdefault(past.item_id, set()).add(past.kind)
        if weight == 0.0 or known is None:
            continue
        items.append(known)
        weights.append(weight)
        times.append(past.at.timestamp())
        bought.append(past.kind == "purchase")
    history = Histories(np.array([0, len(items)], dtype=np.int64),
                        np.array(items, dtype=np.int32), np.array(weights, dtype=np.float32),
                        np.array(times, dtype=np.float64), np.full(len(items), -1),
                        np.array(bought, dtype=bool))
    position = {code: n for n, code in enumerate(INTERESTS)}
    row = Row(history, 0, len(items), stage=s,
              interests=[position[c] for c in request.interests if c in position],
              weight_kg=float("nan") if request.weight_kg is None else request.weight_kg,
              now=request.now.timestamp())
    return row, done


def _reason(model: Model, request: Request, product: Product, index: int, values: np.ndarray,
            h: np.ndarray, done: Mapping[int, set[str]]) -> Reason:
    if values[_F["next_size"]] > 0 and product.size is not None:
        return Reason(reasons.NEXT_SIZE, {"size": product.size.code,
                                          "system": product.size.system})
    if values[_F["rebuy"]] >= 0.8:
        return Reason(reasons.BUY_AGAIN, {"item": product.id})
    if "save" in done.get(product.id, ()) and "purchase" not in done.get(product.id, ()):
        return Reason(reasons.SAVED_EARLIER, {"item": product.id})
    share = model.ranker.contributions(values)
    similar = sum(share[_F[name]] for name in ("ease", "cooc", "trans", "content"))
    interest = share[_F["interest"]] + share[_F["taste"]]
    popular = share[_F["stage_pop"]] + share[_F["global_pop"]]
    anchor = _anchor(model, index, h, product.id) if index >= 0 else None
    if anchor is not None and similar > 0 and similar >= max(interest, popular):
        kinds = done.get(anchor, set())
        code = next((code for kind, code in _ANCHOR_REASONS if kind in kinds),
                    reasons.BECAUSE_VIEWED)
        return Reason(code, {"item": anchor})
    overlap = [code for code in request.interests if code in product.interests]
    if overlap and share[_F["interest"]] > 0 and interest >= popular:
        return Reason(reasons.INTEREST, {"interest": overlap[0]})
    if index < 0:
        return Reason(reasons.NEW, {"stage": request.stage.key})
    return reasons.popular_at(request.stage)


def _anchor(model: Model, index: int, h: np.ndarray, item_id: int) -> int | None:
    """The liked history item that does most for this candidate (its product id)."""
    liked = np.flatnonzero(h > 0)
    if not len(liked):
        return None
    comp = model.components
    pull = h[liked] * (comp.ease[liked, index] + comp.cooc[liked, index]
                       + comp.trans[liked, index])
    best = int(np.argmax(pull))
    anchor = int(model.item_ids[liked[best]])
    return anchor if pull[best] > 0 and anchor != item_id else None


# --- from the database ---------------------------------------------------------------------------

# Statements built once (bound parameters): a page asks for suggestions on every visit.
_NOW: BindParameter[datetime] = bindparam("now")
_CANDIDATES = (
    select(ContentItem.id, ContentItem.key, ContentItem.category, ContentItem.window_unit,
           ContentItem.window_from, ContentItem.window_to, ContentItem.interests,
           ContentItem.tags, ContentItem.consumable, ContentItem.size,
           ContentItem.price_minor)
    .where(ContentItem.kind == "product", ContentItem.active.is_(True), live(_NOW),
           ContentItem.window_unit == bindparam("unit"),
           ContentItem.window_from <= bindparam("value"),
           ContentItem.window_to >= bindparam("value"))
    .order_by(ContentItem.id))
_ACTION_COLUMNS = (Interaction.item_id, Interaction.kind, Interaction.occurred_at,
                   Interaction.id)
# Two statements, each walking one partial index newest first (ACTIONS written as in the
# index, so the planner can use it): the child's actions, and the person's own with no child
# (shop purchases) or dismissing something for another child.
_CHILD_ACTIONS = (
    select(*_ACTION_COLUMNS)
    .where(text(ACTIONS), Interaction.child_id == bindparam("child"))
    .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(HISTORY_LIMIT))
_PERSON_ACTIONS = (
    select(*_ACTION_COLUMNS)
    .where(text(ACTIONS), Interaction.user_id == bindparam("user"),
           or_(Interaction.child_id.is_(None),
               and_(Interaction.kind == "dismiss", Interaction.child_id != bindparam("child"))))
    .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(HISTORY_LIMIT))
_WEIGHT = (
    select(Measurement.weight_kg).join(Entry, Entry.id == Measurement.entry_id)
    .where(Entry.child_id == bindparam("child"), Entry.kind == "measurement",
           Measurement.weight_kg.is_not(None))
    .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(1))


def candidates(session: Session, stage: Stage, now: datetime) -> list[Product]:
    """The live, on-sale products whose window holds `stage`."""
    rows = session.execute(_CANDIDATES, {"now": now, "unit": stage.unit,
                                         "value": stage.value}).all()
    return [Product(id=r.id, key=r.key, category=r.category or "", window_unit=r.window_unit,
                    window_from=r.window_from, window_to=r.window_to,
                    interests=tuple(_listed(r.interests)), tags=tuple(_listed(r.tags)),
                    consumable=bool(r.consumable), size=_size(r.size),
                    price_minor=r.price_minor) for r in rows]


def _listed(value: object) -> list[str]:
    if isinstance(value, str):  # JSON read back as text by some drivers
        value = json.loads(value)
    return [str(v) for v in value] if isinstance(value, list) else []


def _size(value: object) -> sizes.Size | None:
    if isinstance(value, str):
        value = json.loads(value)
    return sizes.from_raw(value)


def _with_text(session: Session, model: Model | None, products: list[Product]
               ) -> list[Product]:
    """Products the model never saw, with their English text (for the content signal)."""
    if model is None:
        return products
    fresh = [p.id for p in products if p.id not in model.index]
    if not fresh:
        return products
    text = {item_id: f"{title} {summary}" for item_id, title, summary in session.execute(
        select(Translation.item_id, Translation.title, Translation.summary)
        .where(Translation.item_id.in_(fresh), Translation.locale == "en"))}
    return [replace(p, text=text[p.id]) if p.id in text else p for p in products]


def history(session: Session, user_id: int, child_id: int) -> list[Past]:
    """What was done for this child (by any caregiver), plus this person's actions with no
    child and their dismissals; oldest first, the newest HISTORY_LIMIT."""
    values = {"child": child_id, "user": user_id}
    rows = [*session.execute(_CHILD_ACTIONS, values), *session.execute(_PERSON_ACTIONS, values)]
    rows.sort(key=lambda r: (r.occurred_at, r.id))
    return [Past(r.item_id, r.kind, r.occurred_at) for r in rows[-HISTORY_LIMIT:]]


def latest_weight(session: Session, child_id: int) -> float | None:
    """The child's most recently logged weight (kg)."""
    return session.scalar(_WEIGHT, {"child": child_id})


def suggest(session: Session, model: Model | None, user: User, child: Child, today: date,
            k: int = 10, surface: str = "child_page", mode: str = "model",
            per_category: int = PER_CATEGORY, now: datetime | None = None
            ) -> list[Suggestion]:
    """Up to `k` suggestions for `child` as `user` sees them on `surface` (`today` is the
    family's local date); [] before pregnancy week 4 or after five years. Reading only."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    stage = stage_of(child, today)
    if stage is None:
        return []
    now = now or utcnow()
    products = candidates(session, stage, now)
    if not products:
        return []
    if mode == "model":
        products = _with_text(session, model, products)
    request = Request(stage=stage, candidates=products,
                      history=history(session, user.id, child.id),
                      interests=tuple(user.interests or ()),
                      weight_kg=latest_weight(session, child.id) if mode == "model" else None,
                      now=now, k=k, per_category=per_category)
    return rank(model, request, mode)
