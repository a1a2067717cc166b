"""The products as the model sees them, and the stages as small integers.

`load(session)` reads every product (live or not: a history may name an item that has since
gone); `from_pack()` reads the shipped pack without a database (offline evaluation, the
benchmark). `item_side(catalogue)` turns it into the arrays the model reads.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content import packs, sizes
from content.models import Product as ProductRow
from content.sizes import Size
from content.stages import UNIT_RANGES, Stage
from content.vocabulary import SIZE_LADDERS
from diary.vocabulary import INTERESTS
from recommender.model import ItemSide

#: Every stage a child can be in, in life order; a stage's index is its position here.
STAGES: tuple[Stage, ...] = tuple(
    Stage(unit, value) for unit in ("pregnancy_week", "week", "month")
    for value in range(UNIT_RANGES[unit][0], UNIT_RANGES[unit][1] + 1))
_STAGE_INDEX = {stage: index for index, stage in enumerate(STAGES)}
LADDERS: tuple[str, ...] = tuple(SIZE_LADDERS)


def stage_index(stage: Stage | None) -> int:
    """The stage's index in STAGES; −1 for None or a stage outside them."""
    return _STAGE_INDEX.get(stage, -1) if stage is not None else -1


@dataclass(frozen=True)
class Product:
    id: int
    key: str
    category: str
    window_unit: str | None
    window_from: int | None
    window_to: int | None
    interests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    consumable: bool = False
    size: Size | None = None
    price_minor: int | None = None
    active: bool = True  # on sale
    live: bool = True  # published and due
    text: str = ""  # English name and description

    def in_window(self, stage: Stage) -> bool:
        return (self.window_unit == stage.unit and self.window_from is not None
                and self.window_to is not None
                and self.window_from <= stage.value <= self.window_to)


@dataclass
class Catalogue:
    products: list[Product]

    def __post_init__(self) -> None:
        self.index = {p.id: n for n, p in enumerate(self.products)}

    def __len__(self) -> int:
        return len(self.products)


def load(session: Session, now: datetime) -> Catalogue:
    rows = session.scalars(select(ProductRow).order_by(ProductRow.id)
                           .options(selectinload(ProductRow.translations)))
    products = []
    for row in rows:
        text = row.text("en")
        products.append(Product(
            id=row.id, key=row.key, category=row.category or "", window_unit=row.window_unit,
            window_from=row.window_from, window_to=row.window_to,
            interests=tuple(row.interests or ()), tags=tuple(row.tags or ()),
            consumable=bool(row.consumable), size=sizes.from_raw(row.size),
            price_minor=row.price_minor, active=bool(row.active), live=row.is_live(now),
            text=f"{text.title} {text.summary}" if text else ""))
    return Catalogue(products)


def from_pack(path: Path | None = None) -> Catalogue:
    """The pack's products with ids 1, 2, … in the pack's order (no database)."""
    parsed, files = packs.parse(path or packs.DEFAULT_PACK)
    files.close()
    products: list[Product] = []
    for data, _image in parsed:
        if data.kind != "product":
            continue
        text = data.translations.get("en")
        products.append(Product(
            id=len(products) + 1, key=data.key, category=data.category or "",
            window_unit=data.window_unit, window_from=data.window_from,
            window_to=data.window_to, interests=tuple(data.interests), tags=tuple(data.tags),
            consumable=data.consumable, size=data.size, price_minor=data.price_minor,
            active=data.active, text=f"{text.title} {text.summary}" if text else ""))
    return Catalogue(products)


# --- what the model reads ----------------------------------------------------------------------

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def document(product: Product) -> str:
    """The words the content signal compares: text, category, tags and interests."""
    extra = [f"cat_{product.category}", *(f"tag_{t}" for t in product.tags),
             *(f"int_{i}" for i in product.interests)]
    return " ".join([product.text, *extra])


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class Vocabulary:
    """TF-IDF as fitted on the catalogue: a new product's vector is made the same way."""

    terms: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, documents: Sequence[str]) -> Vocabulary:
        seen = [set(tokens(doc)) for doc in documents]
        terms = {t: n for n, t in enumerate(sorted(set().union(*seen)))} if seen else {}
        df = np.zeros(len(terms))
        for words in seen:
            for word in words:
                df[terms[word]] += 1
        idf = np.log((1 + len(documents)) / (1 + df)) + 1.0  # scikit-learn's smooth idf
        return cls(terms, idf)

    def transform(self, documents: Iterable[str]) -> np.ndarray:
        docs = list(documents)
        out = np.zeros((len(docs), len(self.terms)), dtype=np.float32)
        for r, doc in enumerate(docs):
            for word in tokens(doc):
                column = self.terms.get(word)
                if column is not None:
                    out[r, column] += 1.0
        out = np.where(out > 0, 1.0 + np.log(np.maximum(out, 1e-12)), 0.0) * self.idf
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)


def interest_matrix(products: Sequence[Product]) -> np.ndarray:
    matrix = np.zeros((len(products), len(INTERESTS)), dtype=np.float32)
    position = {code: n for n, code in enumerate(INTERESTS)}
    for r, product in enumerate(products):
        for code in product.interests:
            if code in position:
                matrix[r, position[code]] = 1.0
    return matrix


def centrality(product: Product, value: int) -> float:
    """How central a stage value is in the product's window: 1 at the centre, falling to
    1/(half width + 1) at the ends."""
    if product.window_from is None or product.window_to is None:
        return 0.0
    centre = (product.window_from + product.window_to) / 2
    half = (product.window_to - product.window_from) / 2
    return 1.0 - abs(value - centre) / (half + 1.0)


def window_arrays(products: Sequence[Product]) -> tuple[np.ndarray, np.ndarray]:
    """Per stage and product: in the product's window, and how central the stage is in it
    (`centrality`; 0 outside)."""
    in_window = np.zeros((len(STAGES), len(products)), dtype=bool)
    fit = np.zeros((len(STAGES), len(products)), dtype=np.float32)
    for c, product in enumerate(products):
        if product.window_unit is None or product.window_from is None \
                or product.window_to is None:
            continue
        for value in range(product.window_from, product.window_to + 1):
            s = stage_index(Stage(product.window_unit, value))
            if s >= 0:
                in_window[s, c] = True
                fit[s, c] = centrality(product, value)
    return in_window, fit


@dataclass(frozen=True)
class SizeArrays:
    ladder: np.ndarray  # index in LADDERS, −1 unsized
    rank: np.ndarray  # step on the ladder, −1 unsized
    low: np.ndarray  # kg, nan without weights
    high: np.ndarray


def size_arrays(products: Sequence[Product]) -> SizeArrays:
    def kg(value: float | None) -> float:
        return np.nan if value is None else value

    return SizeArrays(
        np.array([LADDERS.index(p.size.system) if p.size and p.size.system in LADDERS else -1
                  for p in products], dtype=np.int64),
        np.array([p.size.rank if p.size else -1 for p in products], dtype=np.int64),
        np.array([kg(p.size.min_kg) if p.size else np.nan for p in products]),
        np.array([kg(p.size.max_kg) if p.size else np.nan for p in products]))


def price_centre(products: Sequence[Product]) -> float:
    """The mean log price (the price signal compares prices around it)."""
    logged = [np.log(p.price_minor) for p in products if p.price_minor]
    return float(np.mean(logged)) if logged else 0.0


def price_offsets(products: Sequence[Product], centre: float) -> np.ndarray:
    """Log prices around `centre` (a product without a price sits at it)."""
    return np.array([np.log(p.price_minor) - centre if p.price_minor else 0.0
                     for p in products])


def item_side(products: Sequence[Product], vocabulary: Vocabulary) -> ItemSide:
    in_window, fit = window_arrays(products)
    sized = size_arrays(products)
    return ItemSide(
        n_items=len(products), interests=interest_matrix(products),
        text=vocabulary.transform(document(p) for p in products), in_window=in_window,
        window_fit=fit, consumable=np.array([p.consumable for p in products], dtype=bool),
        size_ladder=sized.ladder, size_rank=sized.rank, size_min=sized.low,
        size_max=sized.high, price=price_offsets(products, price_centre(products)))
