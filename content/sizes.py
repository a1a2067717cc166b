"""Product sizes: one step on a size ladder (content.vocabulary.SIZE_LADDERS), with the
weight range it fits for nappies.

Stored on the item as a small dict (`ContentItem.size`) and written the same way in packs:
`{"system": "nappy", "code": "M", "min_kg": 6, "max_kg": 11}`. `from_raw` reads that dict
strictly (a pack is checked before anything is imported), `check` says what a marketer must
fix; the recommender reads the ladder step (`rank`) and the weights ("the next nappy size for
her weight").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from content.errors import N_, ValidationError
from content.vocabulary import SIZE_LADDERS

#: The heaviest child a sized product may claim to fit (kg): nappies stop long before.
MAX_KG = 40.0
_FIELDS = ("system", "code", "min_kg", "max_kg")


@dataclass(frozen=True)
class Size:
    system: str
    code: str
    min_kg: float | None = None
    max_kg: float | None = None

    @property
    def rank(self) -> int:
        """The step on its ladder (0 = smallest); -1 for a code the ladder does not have."""
        ladder = SIZE_LADDERS.get(self.system, ())
        return ladder.index(self.code) if self.code in ladder else -1

    def fits(self, weight_kg: float) -> bool:
        """Whether a child of this weight is inside the size's weight range."""
        return (self.min_kg is not None and self.max_kg is not None
                and self.min_kg <= weight_kg <= self.max_kg)

    def to_dict(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"system": self.system, "code": self.code}
        if self.min_kg is not None:
            raw["min_kg"] = self.min_kg
        if self.max_kg is not None:
            raw["max_kg"] = self.max_kg
        return raw

    def describe(self) -> str:
        """"nappy M (6–11 kg)": for history and diffs."""
        weights = f" ({_kg(self.min_kg)}–{_kg(self.max_kg)} kg)" \
            if self.min_kg is not None and self.max_kg is not None else ""
        return f"{self.system} {self.code}{weights}"


def _kg(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def from_raw(raw: object) -> Size | None:
    """A size from a pack or a stored dict; None for null. Raises ValidationError for anything
    but an object with known fields of the right JSON types (its values are `check`ed by the
    item's validation)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError(N_("“size” must be an object such as {\"system\": \"nappy\", "
                                 "\"code\": \"M\", \"min_kg\": 6, \"max_kg\": 11}."), "size")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise ValidationError(N_("Unknown size fields: %(names)s."), "size",
                              names=", ".join(str(name) for name in unknown))
    system, code = raw.get("system"), raw.get("code")
    if not isinstance(system, str) or not isinstance(code, str):
        raise ValidationError(N_("A size needs its ladder (“system”) and its step (“code”) as "
                                 "text."), "size")
    weights = []
    for name in ("min_kg", "max_kg"):
        value = raw.get(name)
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int | float)):
            raise ValidationError(N_("The weight range must be numbers of kilograms."), "size")
        weights.append(None if value is None else float(value))
    return Size(system, code, weights[0], weights[1])


def check(size: Size) -> None:
    """Raise ValidationError naming what is wrong with a size."""
    if size.system not in SIZE_LADDERS:
        raise ValidationError(N_("Choose a size ladder: %(names)s."), "size",
                              names=", ".join(SIZE_LADDERS))
    ladder = SIZE_LADDERS[size.system]
    if size.code not in ladder:
        raise ValidationError(N_("Size %(code)s is not on the %(system)s ladder (%(codes)s)."),
                              "size", code=size.code, system=size.system,
                              codes=", ".join(ladder))
    if (size.min_kg is None) != (size.max_kg is None):
        raise ValidationError(N_("Give both ends of the weight range."), "size")
    if size.min_kg is not None and size.max_kg is not None and not (
            0 < size.min_kg < size.max_kg <= MAX_KG):
        raise ValidationError(N_("The weight range must run upwards from above 0 to at most "
                                 "%(max)d kg."), "size", max=int(MAX_KG))
    if size.system == "nappy" and size.min_kg is None:
        raise ValidationError(N_("Nappy sizes need the weight range they fit."), "size")

