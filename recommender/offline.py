"""The offline proof: our model against the baselines on one data set, in one run.

`report("movielens-100k")` or `report("simulated")` returns
`{"dataset", "protocol", "models": {name: {"hr@10", "ndcg@10", "map@10", "coverage",
"novelty"}}}` for global popularity, stage popularity (where there are stages), item-kNN,
EASE (its λ tuned on the validation items) and ours (`recommender.blend`), all evaluated by
`evaluation.evaluate` on the same leave-last-one-out split.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from diary.vocabulary import INTERESTS
from recommender import catalogue as catalogue_module
from recommender import datasets, evaluation
from recommender.baselines import EASE, GlobalPopularity, ItemKNN, Scorer, StagePopularity
from recommender.blend import Blend
from recommender.catalogue import LADDERS, Catalogue
from recommender.model import ItemSide, Params
from recommender.simulate import SimEvent, World

DATASETS = ("simulated", "movielens-100k")
PROTOCOL = ("leave-last-one-out: each user's events in time order (a stable sort), the last "
            "one is the test item and the one before it validates (λ and the blend are tuned "
            "without the test item); full ranking over the catalogue with the user's items "
            "excluded; top 10")
#: What the simulated data set counts as a family's choice: a save, a basket or a purchase.
#: A click says more about what the old editorial lists happened to show than about the
#: family (and rewards whatever copies the logging policy, as stage popularity does).
POSITIVE = ("save", "add_to_cart", "purchase")
SIMULATED = ("; simulated: each family's first save, add-to-basket or purchase of each product, "
             "with the child's stage at the time")
EASE_GRID = (50.0, 100.0, 200.0, 400.0)


@dataclass(frozen=True)
class Simulation:
    families: int = 800
    days: int = 120
    seed: int = 11


@dataclass
class Prepared:
    split: datasets.Split
    side: ItemSide | None = None
    interests: list[list[int]] | None = None
    #: Each user's child's weight as the site knew it at each event (kg, nan unknown).
    weights: list[np.ndarray] | None = None


def simulated(options: Simulation = Simulation(),
              catalogue: Catalogue | None = None) -> Prepared:
    """A simulation's choices as a data set: each family's first save, add to the basket or
    purchase of each product (POSITIVE), grouped by the child's stage at the time."""
    catalogue = catalogue or catalogue_module.from_pack()
    world = World(catalogue, seed=options.seed, days=options.days)
    families = world.families(options.families)
    split = datasets.leave_last_out("simulated", _first_events(world.simulate(families),
                                                               catalogue))
    index = {p.key: n for n, p in enumerate(catalogue.products)}
    products = [catalogue.products[index[name]] for name in split.item_names]
    side = catalogue_module.item_side(products, catalogue_module.Vocabulary.fit(
        [catalogue_module.document(p) for p in products]))
    declared = {f"f{f.index}": f.declared for f in families}
    position = {code: n for n, code in enumerate(INTERESTS)}
    interests = [[position[c] for c in declared[user]] for user in split.user_names]
    by_name = {f"f{f.index}": f for f in families}
    weights = [np.array([_known(world.logged_weight(by_name[user],
                                                    datetime.fromtimestamp(when, UTC).date()))
                         for when in split.sequence_times[u]])
               for u, user in enumerate(split.user_names)]
    return Prepared(split, side, interests, weights)


def _known(weight: float | None) -> float:
    return float("nan") if weight is None else weight


def _first_events(events: Iterable[SimEvent], catalogue: Catalogue
                  ) -> Iterable[datasets.Event]:
    seen: set[tuple[int, int]] = set()
    for event in events:
        if event.kind not in POSITIVE or (event.family, event.item) in seen:
            continue
        seen.add((event.family, event.item))
        yield datasets.Event(f"f{event.family}", catalogue.products[event.item].key,
                             event.at.timestamp(),
                             catalogue_module.stage_index(event.stage))


def prepare(dataset: str, simulation: Simulation = Simulation()) -> Prepared:
    if dataset == "movielens-100k":
        return Prepared(datasets.movielens_100k())
    if dataset == "simulated":
        return simulated(simulation)
    raise ValueError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")


def report(dataset: str, simulation: Simulation = Simulation(),
           progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    prepared = prepare(dataset, simulation)
    split = prepared.split
    say = progress or (lambda name: None)
    models: dict[str, Scorer] = {"popularity": GlobalPopularity()}
    if split.train_groups is not None:
        models["stage-popularity"] = StagePopularity()
    models["item-knn"] = ItemKNN()
    say("tuning EASE's λ on the validation items")
    lam, _ = evaluation.tune(EASE, EASE_GRID, split)
    models["ease"] = EASE(lam)
    results: dict[str, dict[str, float]] = {}
    for name, scorer in models.items():
        say(name)
        scorer.fit(split.train, split.train_groups)
        results[name] = _rounded(evaluation.evaluate(scorer, split))
    say("ours")
    ours = Blend(split, prepared.side, Params(),
                 user_interests=prepared.interests, user_weights=prepared.weights,
                 n_interests=len(INTERESTS) if prepared.interests else 0,
                 n_ladders=len(LADDERS) if prepared.side is not None else 0).fit()
    results["ours"] = _rounded(evaluation.evaluate(ours, split))
    return {"dataset": dataset,
            "protocol": PROTOCOL + (SIMULATED if dataset == "simulated" else ""),
            "users": split.n_users, "items": split.n_items,
            "tuned": {"ease_lambda": lam, "ours": ours.ranker.to_dict()},
            "models": results}


def _rounded(result: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in result.items()}
