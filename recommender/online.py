"""A simulated online test: the model against the stage-popularity control, on families who
answer by their hidden preferences.

The world (`recommender.simulate`) runs `history_days` with the old editorial lists; a model
is trained on that log exactly as `flask reco train` trains on the real one; then for
`test_days` each family is served by its side of a stable split (`serve.in_control`): the
model's suggestions or the control's, ranked by `serve.rank` with the same rules, from the
history the family has built so far. The families click (or not) as their hidden utilities say.
Click-through on the child page's suggestions is compared per arm, with families as the unit:
`ctr_lift` gives the difference and its 95 % confidence interval.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

from recommender import catalogue as catalogue_module
from recommender import serve, train
from recommender.catalogue import STAGES, Catalogue
from recommender.simulate import SimEvent, SimFamily, World, editorial_policy, to_log

SURFACE = "child_page"


@dataclass(frozen=True)
class Lift:
    """Click-through in each arm, the difference (treatment − control), its standard error
    and 95 % interval, and the relative lift."""

    treatment_ctr: float
    control_ctr: float
    difference: float
    standard_error: float
    low: float
    high: float

    @property
    def relative(self) -> float | None:
        return self.difference / self.control_ctr if self.control_ctr else None

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self) -> dict[str, Any]:
        relative = self.relative
        return {"treatment_ctr": round(self.treatment_ctr, 5),
                "control_ctr": round(self.control_ctr, 5),
                "difference": round(self.difference, 5),
                "standard_error": round(self.standard_error, 5),
                "ci95": [round(self.low, 5), round(self.high, 5)],
                "relative_lift": None if relative is None else round(relative, 4)}


def _ratio(units: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """CTR over all units' impressions, and its variance with units as clusters (the ratio
    estimator's linearised variance, m/(m − 1) · Σ(cᵢ − p·nᵢ)² / (Σn)²)."""
    clicks = sum(c for c, _ in units)
    shown = sum(n for _, n in units)
    if shown == 0:
        raise ValueError("an arm with no impressions has no click-through rate")
    p = clicks / shown
    m = len(units)
    if m < 2:
        return p, 0.0
    spread = sum((c - p * n) ** 2 for c, n in units)
    return p, m / (m - 1) * spread / shown ** 2


def ctr_lift(treatment: Sequence[tuple[int, int]], control: Sequence[tuple[int, int]],
             z: float = 1.959964) -> Lift:
    """The click-through difference between two arms of (clicks, impressions) per unit (a
    family): each family's clicks move together, so families — not impressions — are the
    independent draws. Raises ValueError for an arm without impressions."""
    for name, units in (("treatment", treatment), ("control", control)):
        if any(c < 0 or n < 0 or c > n for c, n in units):
            raise ValueError(f"the {name} arm has a unit with impossible counts")
    p_t, var_t = _ratio(treatment)
    p_c, var_c = _ratio(control)
    se = math.sqrt(var_t + var_c)
    difference = p_t - p_c
    return Lift(p_t, p_c, difference, se, difference - z * se, difference + z * se)


@dataclass(frozen=True)
class Options:
    families: int = 300
    history_days: int = 60
    test_days: int = 28
    seed: int = 5
    control_share: float = 0.5
    slots: int = 4
    start: date = date(2026, 3, 1)


def run(options: Options = Options(), catalogue: Catalogue | None = None,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda step: None)
    catalogue = catalogue or catalogue_module.from_pack()
    days = options.history_days + options.test_days
    world = World(catalogue, seed=options.seed, start=options.start, days=days)
    families = world.families(options.families)
    switch = options.start + timedelta(days=options.history_days)
    say("history")
    history_days = [options.start + timedelta(days=d) for d in range(options.history_days)]
    events = [e for f in families for e in world.simulate_family(f, days=history_days)]
    say("training")
    log, people = to_log(world, families, events)
    model = train.train(catalogue, log, people, now=datetime.combine(switch, time(), UTC))
    say("serving")
    arms = {f.index: "control" if serve.in_control(f.index, options.control_share)
            else "model" for f in families}
    pasts: dict[int, list[serve.Past]] = {f.index: [] for f in families}
    editorial = editorial_policy(world)
    products = catalogue.products

    def policy(family: SimFamily, day: date, stage: int, candidates: np.ndarray, k: int,
               surface: str, rng: np.random.Generator) -> list[int]:
        if day < switch:
            return editorial(family, day, stage, candidates, k, surface, rng)
        request = serve.Request(
            stage=STAGES[stage], candidates=[products[i] for i in candidates],
            history=pasts[family.index], interests=family.declared,
            weight_kg=world.logged_weight(family, day),
            now=datetime.combine(day, time(12, 0), UTC), k=k)
        chosen = serve.rank(model, request, arms[family.index])
        return [catalogue.index[s.item_id] for s in chosen]

    counts = {f.index: [0, 0] for f in families}
    for family in families:
        for event in world.simulate_family(family, policy):
            if event.at.date() < switch:
                continue
            if event.kind != "impression":
                pasts[family.index].append(serve.Past(products[event.item].id, event.kind,
                                                      event.at))
            if event.surface == SURFACE:
                _count(counts[family.index], event)
    units = {arm: [tuple(counts[f.index]) for f in families
                   if arms[f.index] == arm and counts[f.index][1]]
             for arm in ("model", "control")}
    lift = ctr_lift(units["model"], units["control"])  # type: ignore[arg-type]
    return {"families": {arm: len(u) for arm, u in units.items()},
            "impressions": {arm: sum(n for _, n in u) for arm, u in units.items()},
            "clicks": {arm: sum(c for c, _ in u) for arm, u in units.items()},
            "surface": SURFACE, "days": options.test_days, "model_version": model.version,
            "ranker": model.ranker.source, **lift.to_dict()}


def _count(tally: list[int], event: SimEvent) -> None:
    if event.kind == "impression":
        tally[1] += 1
    elif event.kind == "click":
        tally[0] += 1

