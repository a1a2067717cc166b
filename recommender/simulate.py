"""Simulated families: believable shopping histories from a hidden preference model.

Each family has a child somewhere between week 4 of pregnancy and five years, and tastes the
site never sees directly: how much they care about each interest (they declare some of them),
breast or bottle feeding, price sensitivity, a liking (or not) for the partner brands, how
often they visit, and whether they ever open email. Over the simulated days the child grows
(WHO weight-for-age at the family's own z-score, so nappy sizes move up with the weight),
families see products on the child page, the product list and in weekly emails, and click,
save, dismiss, add to the basket and buy by their hidden utilities (with a position bias);
seasonal items (sun hats, sunscreen, winter suits) do better in their season; consumables
are bought again on their own cycle, in the size that fits.

`World.simulate` yields events in each family's time order, deterministic for a seed.
`write` stores the families (as accounts, families, children and monthly weights) and their
events through `recommender.log.record_many`, with idempotency keys made from the seed, so a
rerun adds nothing twice. `World.respond` is the same response model for the online test.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.stages import Stage, stage_of
from diary import growth
from diary.models import Child, Entry, Family, Measurement, Membership, User
from diary.vocabulary import INTERESTS
from recommender import log
from recommender.catalogue import (
    Catalogue,
    interest_matrix,
    size_arrays,
    stage_index,
    window_arrays,
)
from recommender.train import Log, People

#: Tags the hidden world reads (the model never does: it has to learn what goes together).
BREAST_TAGS = frozenset({"breast-pump", "nursing-pads", "milk-storage", "breastfeeding",
                         "nipple-balm", "nursing-bra"})
BOTTLE_TAGS = frozenset({"slow-flow", "medium-flow", "fast-flow", "vented", "teat",
                         "steriliser", "bottle-brush"})
#: Things that go together: having gone for one, a family wants the others for a while
#: (a pump, then milk bags; a bowl, then spoons and a smock). By tag, else by category.
COLLECTIONS = {
    "breast": BREAST_TAGS,
    "bottle": BOTTLE_TAGS,
    "weaning": frozenset({"suction-bowl", "spoons", "divided-plate", "free-flow", "straw-cup",
                          "silicone", "long-sleeve", "easy-clean"}),
    "bath": frozenset({"bath-time", "foldable", "hooded", "tear-free-formula"}),
    "sleep": frozenset({"sleeping-bag", "swaddle", "night-light", "cot-sheet", "sleepsuit",
                        "pyjamas"}),
    "walking": frozenset({"first-steps", "push-along", "walking", "soft-sole"}),
    "hospital": frozenset({"hospital-bag", "maternity-pads", "nursing-bra"}),
}
COLLECTION_BOOST, COLLECTION_DAYS = 1.5, 45
TASTE, CONCENTRATION = 4.5, 0.3
SUMMER_TAGS = frozenset({"summer", "sunscreen", "sun-hat", "upf-50", "spf50"})
WINTER_TAGS = frozenset({"winter"})
#: Days until a consumable is bought again, by category (nappies go fastest).
REBUY_DAYS = {"nappies": 21, "wipes": 28, "cotton_buds": 45, "skin_care": 40,
              "powder_lotion": 45, "bath": 50, "maternity": 40, "feeding": 30, "bottles": 60,
              "health": 90}
FEEDING = ("breast", "bottle", "mixed")
#: Families who stop coming during the window: the CRM's churn list and P(alive) need people
#: who drift away, as real customers do.
LEAVING_SHARE = 0.2
CHILD_PAGE_SLOTS, LIST_SLOTS, EMAIL_SLOTS = 4, 8, 3
FIRST_DAY, LAST_DAY = -252, 1826  # days from the due date: pregnancy week 4 … five years


@dataclass
class SimFamily:
    """One family's hidden truth (and what the site can know: the child, declared interests)."""

    index: int
    due_date: date
    birth_date: date | None  # None: not born by the end of the simulation
    sex: str
    weight_z: float
    feeding: str
    taste: np.ndarray  # weight per interest (sums to 1)
    declared: tuple[str, ...]
    price_sensitivity: float
    partner_liking: float
    visits_per_day: float
    ignores_email: bool
    email_weekday: int
    prefers_pants: bool
    base: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    #: The day the family stops coming (drifts away: no visits, emails read or purchases
    #: from then on); None for the families who stay.
    leaves_on: date | None = None
    #: The day the family first comes (a World with `arrivals`: families join over the
    #: window, as sign-ups do); None: there from the first day.
    joins_on: date | None = None

    def born_by(self, day: date) -> bool:
        return self.birth_date is not None and self.birth_date <= day

    def stage(self, day: date) -> Stage | None:
        return stage_of(_Dates(self.due_date, self.birth_date if self.born_by(day) else None),
                        day)

    def weight_kg(self, day: date) -> float | None:
        if not self.born_by(day):
            return None
        assert self.birth_date is not None
        age = (day - self.birth_date).days
        return growth.value_at("wfa", self.sex, min(age, growth.MAX_AGE_DAYS), self.weight_z)


@dataclass(frozen=True)
class _Dates:
    due_date: date | None
    birth_date: date | None
    gestational_weeks_at_birth: int | None = None
    gestational_days_at_birth: int | None = None


@dataclass(frozen=True)
class SimEvent:
    family: int
    kind: str
    item: int  # index in the catalogue
    at: datetime
    stage: Stage | None
    surface: str
    position: int | None = None
    request: str | None = None
    quantity: int | None = None
    amount_minor: int | None = None


@dataclass
class FamilyState:
    """What a family has done so far (the simulation's memory, not the model's)."""

    bought: dict[int, date] = field(default_factory=dict)
    next_rebuy: dict[int, date] = field(default_factory=dict)
    visits: int = 0
    #: Collections the family went for lately, with the day.
    engaged: dict[int, date] = field(default_factory=dict)
    nappy_rank: int = -1  # the largest nappy size bought so far


#: Chooses what the site shows: (family, day, stage index, candidate items, how many,
#: surface, rng) → item indices, best first.
Policy = Callable[[SimFamily, date, int, np.ndarray, int, str, np.random.Generator], list[int]]


class World:
    """The catalogue as the hidden preference model sees it, and the families in it."""

    def __init__(self, catalogue: Catalogue, seed: int = 1, start: date | None = None,
                 days: int = 90, arrivals: bool = False) -> None:
        self.catalogue = catalogue
        self.seed = seed
        self.days = days
        #: Families join over the window instead of all being there on its first day (the
        #: demo's cohorts by sign-up month need sign-ups spread over months).
        self.arrivals = arrivals
        self.start = start or date(2026, 1, 1)
        self.end = self.start + timedelta(days=days - 1)
        products = catalogue.products
        n = len(products)
        rng = np.random.default_rng([seed, 0])
        self.appeal = rng.normal(0.0, 0.4, n)
        interests = interest_matrix(products)
        self.interests = interests / np.maximum(interests.sum(axis=1, keepdims=True), 1.0)
        self.in_window, self.window_fit = window_arrays(products)
        self.sellable = np.array([p.active for p in products])
        tags = [set(p.tags) for p in products]
        self.breast = np.array([bool(t & BREAST_TAGS) for t in tags])
        self.bottle = np.array([bool(t & BOTTLE_TAGS) for t in tags])
        self.summer = np.array([bool(t & SUMMER_TAGS) for t in tags])
        self.winter = np.array([bool(t & WINTER_TAGS) for t in tags])
        self.partner = np.array(["partner" in t for t in tags])
        self.pants = np.array(["pull-ups" in t for t in tags])
        self.price = np.array([p.price_minor or 5000 for p in products], dtype=np.float64)
        self.consumable = np.array([p.consumable for p in products])
        self.nappy = np.array([p.size is not None and p.size.system == "nappy"
                               for p in products])
        sized = size_arrays(products)
        self.size_min, self.size_max, self.size_rank = sized.low, sized.high, sized.rank
        self.rebuy_days = np.array([REBUY_DAYS.get(p.category, 45) for p in products])
        self.collections = list(COLLECTIONS)
        self.collection = np.array([next((n for n, name in enumerate(self.collections)
                                          if t & COLLECTIONS[name]), -1) for t in tags])

    # --- families ------------------------------------------------------------------------

    def family(self, index: int) -> SimFamily:
        rng = np.random.default_rng([self.seed, 1, index])
        # mostly babies and toddlers the shop has products for; some older children
        if rng.random() < 0.85:
            days_from_due = int(rng.integers(FIRST_DAY, 3 * 365))
        else:
            days_from_due = int(rng.integers(3 * 365, LAST_DAY))
        due = self.start - timedelta(days=days_from_due)
        birth = due + timedelta(days=int(np.clip(round(rng.normal(0, 6)), -14, 14)))
        taste = rng.dirichlet(np.full(len(INTERESTS), CONCENTRATION))
        top = np.argsort(-taste)[:2]
        declared = tuple(INTERESTS[i] for i in top if rng.random() < 0.6) \
            if rng.random() > 0.25 else ()
        family = SimFamily(
            index=index, due_date=due, birth_date=birth if birth <= self.end else None,
            sex="female" if rng.random() < 0.49 else "male",
            weight_z=float(np.clip(rng.normal(0, 1), -2.5, 2.5)),
            feeding=FEEDING[int(rng.choice(3, p=[0.5, 0.3, 0.2]))], taste=taste,
            declared=declared, price_sensitivity=float(rng.uniform(0.0, 2.0)),
            partner_liking=float(rng.normal(0.0, 1.5)),
            visits_per_day=float(np.clip(rng.lognormal(math.log(0.15), 0.8), 0.02, 0.8)),
            ignores_email=bool(rng.random() < 0.35), email_weekday=index % 7,
            prefers_pants=bool(rng.random() < 0.35))
        family.base = self._base_utility(family)
        # A share drifts away in the second half of the window (their own stream of random
        # numbers, so every other trait is what it was without them).
        leaving = np.random.default_rng([self.seed, 3, index])
        joined = 0
        if self.arrivals and self.days >= 14:
            joined = int(leaving.integers(0, self.days * 4 // 5))
            family.joins_on = self.start + timedelta(days=joined)
        if self.days >= 14 and leaving.random() < LEAVING_SHARE:
            first = joined + (self.days - joined) // 2
            family.leaves_on = self.start + timedelta(
                days=int(leaving.integers(first, max(first + 1, self.days))))
        return family

    def weighing_days(self) -> list[date]:
        """The days parents weigh their babies in the simulation: every 30 days."""
        return [self.start + timedelta(days=d) for d in range(0, self.days, 30)]

    def logged_weight(self, family: SimFamily, day: date) -> float | None:
        """The weight the parents logged last on or before `day` (what the site knows)."""
        weighed = [d for d in self.weighing_days() if d <= day]
        return family.weight_kg(weighed[-1]) if weighed else None

    def families(self, count: int, first: int = 0) -> list[SimFamily]:
        return [self.family(first + n) for n in range(count)]

    def _base_utility(self, family: SimFamily) -> np.ndarray:
        u = self.appeal + TASTE * (self.interests @ family.taste) * len(INTERESTS) / 4
        if family.feeding == "breast":
            u = u + 1.5 * self.breast - 2.5 * self.bottle
        elif family.feeding == "bottle":
            u = u + 1.5 * self.bottle - 2.5 * self.breast
        else:
            u = u + 0.6 * (self.breast | self.bottle)
        u = u + family.partner_liking * self.partner
        u = u - family.price_sensitivity * np.log(self.price / 6000.0)
        return u + (0.8 if family.prefers_pants else -0.8) * self.pants

    def utility(self, family: SimFamily, day: date, stage: int,
                state: FamilyState | None = None) -> np.ndarray:
        """What each item is worth to the family today (stage, season, the child's weight,
        the collections they went for lately)."""
        summer = 1.0 if day.month in (5, 6, 7, 8) else -1.0 if day.month in (11, 12, 1, 2) \
            else 0.0
        u = family.base + 1.2 * summer * (self.summer.astype(float) - self.winter)
        u = u + 0.8 * self.window_fit[stage] if stage >= 0 else u
        weight = family.weight_kg(day)
        if weight is not None:
            fits = (self.size_min <= weight) & (weight <= self.size_max)
            u = u + np.where(self.nappy, np.where(fits, 1.0, -4.0), 0.0)
        if state is not None:
            for group, when in state.engaged.items():
                age = (day - when).days
                if age <= COLLECTION_DAYS:
                    u = u + COLLECTION_BOOST * (1 - age / COLLECTION_DAYS) \
                        * (self.collection == group)
        return u

    def _engage(self, state: FamilyState, item: int, day: date) -> None:
        if self.collection[item] >= 0:
            state.engaged[int(self.collection[item])] = day

    # --- responses --------------------------------------------------------------------------

    def respond(self, family: SimFamily, state: FamilyState, day: date, shown: Sequence[int],
                surface: str, rng: np.random.Generator, request: str, at: datetime,
                stage: Stage | None) -> list[SimEvent]:
        """Impressions of `shown` and what the family does with them (by hidden utility,
        with a position bias)."""
        s = stage_index(stage)
        u = self.utility(family, day, s, state)
        events = []
        email = surface == "email"
        for position, item in enumerate(shown):
            events.append(SimEvent(family.index, "impression", item, at, stage, surface,
                                   position, request))
            if email and family.ignores_email:
                continue
            p_click = _sigmoid(u[item] - 3.0) / (1.0 + 0.3 * position) * (0.6 if email else 1)
            if rng.random() >= p_click:
                if u[item] < 0.0 and not email and rng.random() < 0.04:
                    events.append(SimEvent(family.index, "dismiss", item,
                                           at + timedelta(seconds=20 + position), stage,
                                           surface, position, request))
                continue
            when = at + timedelta(seconds=30 + 5 * position)
            events.append(SimEvent(family.index, "click", item, when, stage, surface, position,
                                   request))
            self._engage(state, item, day)
            if rng.random() < 0.15:
                events.append(SimEvent(family.index, "save", item, when + timedelta(seconds=10),
                                       stage, surface, position, request))
            if self._buyable(family, state, item, day) \
                    and rng.random() < _sigmoid(u[item] - 2.5) * 0.6:
                events.append(SimEvent(family.index, "add_to_cart", item,
                                       when + timedelta(seconds=40), stage, surface, position,
                                       request))
                if rng.random() < 0.75:
                    events.append(self._purchase(family, state, item, day,
                                                 when + timedelta(seconds=90), stage))
        return events

    def _buyable(self, family: SimFamily, state: FamilyState, item: int, day: date) -> bool:
        """Not a one-off they have; a nappy only in a size that fits, never a smaller one
        than they moved up to."""
        if item in state.bought and not self.consumable[item]:
            return False
        size = self.catalogue.products[item].size
        if self.nappy[item] and size is not None:
            weight = family.weight_kg(day)
            return weight is not None and size.fits(weight) and size.rank >= state.nappy_rank
        return True

    def _purchase(self, family: SimFamily, state: FamilyState, item: int, day: date,
                  at: datetime, stage: Stage | None) -> SimEvent:
        state.bought[item] = day
        if self.nappy[item]:
            state.nappy_rank = max(state.nappy_rank, int(self.size_rank[item]))
        if self.consumable[item]:
            state.next_rebuy[item] = day + timedelta(days=int(self.rebuy_days[item]))
        return SimEvent(family.index, "purchase", item, at, stage, "shop", quantity=1,
                        amount_minor=int(self.price[item]))

    def _routine(self, family: SimFamily, state: FamilyState, day: date, stage: Stage | None,
                 rng: np.random.Generator) -> list[SimEvent]:
        """Shop purchases the site did not prompt: nappies in the size that fits, and the
        consumables a family keeps buying."""
        events = []
        at = datetime.combine(day, time(20, 0), UTC) + timedelta(minutes=int(rng.integers(0, 120)))
        weight = family.weight_kg(day)
        u = None
        if weight is not None and weight < 17.5:
            due = [i for i, when in state.next_rebuy.items() if self.nappy[i] and when <= day]
            has_nappies = any(self.nappy[i] for i in state.next_rebuy)
            if due or not has_nappies:
                for item in due:
                    state.next_rebuy.pop(item)
                u = self.utility(family, day, stage_index(stage), state)
                fitting = np.flatnonzero(self.nappy & (self.size_min <= weight)
                                         & (weight <= self.size_max) & self.sellable
                                         & (self.size_rank >= state.nappy_rank))
                if len(fitting):
                    item = int(fitting[np.argmax(u[fitting] + rng.gumbel(0, 0.3, len(fitting)))])
                    events.append(self._purchase(family, state, item, day, at, stage))
        for item, when in list(state.next_rebuy.items()):
            if self.nappy[item] or when > day:
                continue
            state.next_rebuy.pop(item)
            s = stage_index(stage)
            still = s >= 0 and self.in_window[max(s - 4, 0):s + 1, item].any()
            if still and rng.random() < 0.7:
                events.append(self._purchase(family, state, item, day,
                                             at + timedelta(minutes=1), stage))
        return events

    # --- the simulation ---------------------------------------------------------------------

    def simulate_family(self, family: SimFamily, policy: Policy | None = None,
                        days: Sequence[date] | None = None) -> Iterator[SimEvent]:
        """One family's events over the world's days, in time order."""
        rng = np.random.default_rng([self.seed, 2, family.index])
        state = FamilyState()
        choose = policy or editorial_policy(self)
        for day in days or [self.start + timedelta(days=d) for d in range(self.days)]:
            if family.leaves_on is not None and day >= family.leaves_on:
                return
            if family.joins_on is not None and day < family.joins_on:
                continue
            stage = family.stage(day)
            s = stage_index(stage)
            events: list[SimEvent] = []
            if s >= 0:
                candidates = np.flatnonzero(self.in_window[s] & self.sellable)
                if len(candidates) and rng.random() < family.visits_per_day:
                    events += self._visit(family, state, day, s, stage, candidates, choose, rng)
                if len(candidates) and day.weekday() == family.email_weekday:
                    shown = choose(family, day, s, candidates, EMAIL_SLOTS, "email", rng)
                    at = datetime.combine(day, time(1, 0), UTC)
                    events += self.respond(family, state, day, shown, "email", rng,
                                           _request(self.seed, family.index, day, "email"), at,
                                           stage)
            events += self._routine(family, state, day, stage, rng)
            yield from sorted(events, key=lambda e: e.at)

    def _visit(self, family: SimFamily, state: FamilyState, day: date, s: int,
               stage: Stage | None, candidates: np.ndarray, choose: Policy,
               rng: np.random.Generator) -> list[SimEvent]:
        state.visits += 1
        at = datetime.combine(day, time(int(rng.integers(0, 14)), int(rng.integers(0, 60))),
                              UTC)
        shown = choose(family, day, s, candidates, CHILD_PAGE_SLOTS, "child_page", rng)
        events = self.respond(family, state, day, shown, "child_page", rng,
                              _request(self.seed, family.index, day, f"v{state.visits}"), at,
                              stage)
        if rng.random() < 0.35:
            listed = choose(family, day, s, candidates, LIST_SLOTS, "product_list", rng)
            events += self.respond(family, state, day, listed, "product_list", rng,
                                   _request(self.seed, family.index, day, f"l{state.visits}"),
                                   at + timedelta(minutes=3), stage)
        return events

    def simulate(self, families: Sequence[SimFamily], policy: Policy | None = None
                 ) -> Iterator[SimEvent]:
        for family in families:
            yield from self.simulate_family(family, policy)


def editorial_policy(world: World) -> Policy:
    """What the site showed before any model: declared interests first, narrow windows
    before wide ones, with plenty of shuffling (so the log has something to learn from)."""
    interests = interest_matrix(world.catalogue.products)

    def choose(family: SimFamily, day: date, stage: int, candidates: np.ndarray, k: int,
               surface: str, rng: np.random.Generator) -> list[int]:
        wanted = np.array([code in family.declared for code in INTERESTS], dtype=float)
        score = 0.8 * (interests[candidates] @ wanted) + world.window_fit[stage, candidates]
        score = score + rng.gumbel(0.0, 1.0, len(candidates))
        return [int(candidates[i]) for i in np.argsort(-score)[:k]]

    return choose


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _request(seed: int, family: int, day: date, slot: str) -> str:
    return hashlib.sha256(f"{seed}:{family}:{day}:{slot}".encode()).hexdigest()[:32]


# --- a simulation as the log it would leave -------------------------------------------------

def to_log(world: World, families: Sequence[SimFamily], events: Iterable[SimEvent]
           ) -> tuple[Log, People]:
    """The events as `train` reads them from the database (family index as person and
    child), and what the site would know of the families: declared interests and the weights
    parents logged (monthly, as `write` stores them)."""
    rows = list(events)
    ids = [p.id for p in world.catalogue.products]
    log = Log.build(user=[e.family for e in rows], child=[e.family for e in rows],
                    item=[ids[e.item] for e in rows], kind=[e.kind for e in rows],
                    time=[e.at.timestamp() for e in rows], stage=[e.stage for e in rows],
                    request=[e.request for e in rows])
    people = People(interests={f.index: f.declared for f in families})
    for family in families:
        logged = [(datetime.combine(day, time(9, 0), UTC).timestamp(), kg)
                  for day in world.weighing_days() if (kg := family.weight_kg(day)) is not None]
        if logged:
            people.weights[family.index] = (np.array([t for t, _ in logged]),
                                            np.array([kg for _, kg in logged]))
    return log, people


# --- writing a simulation to the database ---------------------------------------------------

SIM_DOMAIN = "simulated.example"
#: The model version simulated lists are logged under: a fixed editorial order, not a model.
SIM_ORDER = "sim-editorial"


def email_of(seed: int, index: int) -> str:
    return f"family{index:06d}.s{seed}@{SIM_DOMAIN}"


@dataclass
class Written:
    families: int = 0
    created: int = 0
    events: int = 0
    logged: int = 0  # new rows (a rerun logs nothing twice)


def write(session: Session, world: World, families: Sequence[SimFamily],
          policy: Policy | None = None, progress: Callable[[int], None] | None = None
          ) -> Written:
    """Store the families and their simulated events (the caller owns the transaction).
    Accounts are placeholders nobody can sign in to (no password hash). `progress(n)` is
    called as each family is done."""
    written = Written(families=len(families))
    ids = [p.id for p in world.catalogue.products]
    batch: list[log.Event] = []
    for family in families:
        user_id, child_id, created = _account(session, world.seed, family)
        written.created += created
        if created:
            _weights(session, world, family, child_id, user_id)
        for number, event in enumerate(world.simulate_family(family, policy), start=1):
            batch.append(log.Event(
                kind=event.kind, item_id=ids[event.item], surface=event.surface,
                idempotency_key=log.key_for("sim", world.seed, family.index, number),
                user_id=user_id, child_id=child_id,
                stage=event.stage.key if event.stage else None, position=event.position,
                # What a family did with a list counts for the list's ordering (the
                # simulated editorial one); the shop's purchases belong to no list.
                model_version=None if event.surface == "shop" else SIM_ORDER,
                request_id=event.request, quantity=event.quantity,
                amount_minor=event.amount_minor,
                currency="CNY" if event.amount_minor is not None else None,
                occurred_at=event.at,
                # a simulated shop order line id, as the shop would send one
                order_ref=f"SIM{world.seed}-{family.index}-{number}"
                if event.kind == "purchase" else None))
        if len(batch) >= 5000:
            written.logged += log.record_many(session, batch)
            written.events += len(batch)
            batch = []
        if progress:
            progress(1)
    written.logged += log.record_many(session, batch)
    written.events += len(batch)
    return written


def _account(session: Session, seed: int, family: SimFamily) -> tuple[int, int, bool]:
    email = email_of(seed, family.index)
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        child_id = session.scalar(select(Child.id).join(Membership,
                                                        Membership.family_id == Child.family_id)
                                  .where(Membership.user_id == user.id).order_by(Child.id))
        assert child_id is not None
        return user.id, child_id, False
    user = User(email=email, password_hash="!", display_name=f"Simulated family {family.index}",
                member_no=f"SM{seed % 1000:03d}{family.index % 10**7:07d}",
                security_stamp=hashlib.sha256(email.encode()).hexdigest()[:32],
                interests=list(family.declared), locale="en", timezone="Asia/Shanghai",
                link_key=hashlib.sha256(f"link:{email}".encode()).hexdigest()[:32])
    home = Family(name=f"Simulated family {family.index}", timezone="Asia/Shanghai")
    session.add_all([user, home])
    session.flush()
    session.add(Membership(family_id=home.id, user_id=user.id, role="owner",
                           relationship_to_child="mother"))
    child = Child(family_id=home.id, name=f"Baby {family.index}",
                  sex=family.sex if family.birth_date else None, due_date=family.due_date,
                  birth_date=family.birth_date)
    session.add(child)
    session.flush()
    return user.id, child.id, True


def _weights(session: Session, world: World, family: SimFamily, child_id: int,
             user_id: int) -> None:
    """A weight every 30 days of the simulation once the child is born (as parents log)."""
    for day in world.weighing_days():
        weight = family.weight_kg(day)
        if weight is not None:
            entry = Entry(child_id=child_id, author_id=user_id, kind="measurement",
                          occurred_at=datetime.combine(day, time(9, 0), UTC), title="",
                          body="", data={}, search_text="")
            entry.measurement = Measurement(weight_kg=round(weight, 2))
            session.add(entry)


