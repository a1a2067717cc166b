"""Unit conversions. Everything is stored in SI (kg, cm, °C); people type what they like."""
from __future__ import annotations

from typing import Protocol

from diary.errors import N_, ValidationError

KG_PER_LB = 0.45359237  # exact, by definition of the international pound
OZ_PER_LB = 16
CM_PER_IN = 2.54  # exact

WEIGHT_UNITS = ("kg", "g", "lb")
LENGTH_UNITS = ("cm", "in")
TEMPERATURE_UNITS = ("c", "f")
#: What a person can choose to read measurements in (their profile's `unit_system`).
METRIC, IMPERIAL = "metric", "imperial"
UNIT_SYSTEMS = (METRIC, IMPERIAL)


class HasUnitSystem(Protocol):
    unit_system: str


def uses_imperial(person: HasUnitSystem | None) -> bool:
    """Whether this person reads pounds, inches and °F (anyone else, and nobody: metric)."""
    return getattr(person, "unit_system", METRIC) == IMPERIAL


def weight_to_kg(value: float, unit: str, ounces: float = 0.0) -> float:
    """`value` in kg, g or lb; with lb, `ounces` adds to it (7 lb 8 oz)."""
    if value < 0 or ounces < 0:
        raise ValidationError(N_("Weight cannot be negative."), "weight")
    if unit == "kg":
        return value
    if unit == "g":
        return value / 1000
    if unit == "lb":
        if ounces >= OZ_PER_LB:
            raise ValidationError(N_("Ounces must be less than 16."), "weight")
        return (value + ounces / OZ_PER_LB) * KG_PER_LB
    raise ValidationError(N_("Unknown unit %(unit)s."), "weight", unit=unit)


def kg_to_lb_oz(kg: float) -> tuple[int, float]:
    """Whole pounds and the remaining ounces (rounded to 0.1 oz)."""
    total_oz = round(kg / KG_PER_LB * OZ_PER_LB, 1)
    pounds = int(total_oz // OZ_PER_LB)
    return pounds, round(total_oz - pounds * OZ_PER_LB, 1)


def length_to_cm(value: float, unit: str) -> float:
    if value < 0:
        raise ValidationError(N_("Length cannot be negative."), "length")
    if unit == "cm":
        return value
    if unit == "in":
        return value * CM_PER_IN
    raise ValidationError(N_("Unknown unit %(unit)s."), "length", unit=unit)


def cm_to_in(cm: float) -> float:
    return cm / CM_PER_IN


def temperature_to_c(value: float, unit: str) -> float:
    if unit == "c":
        return value
    if unit == "f":
        return (value - 32) * 5 / 9
    raise ValidationError(N_("Unknown unit %(unit)s."), "temperature", unit=unit)


def c_to_f(celsius: float) -> float:
    return celsius * 9 / 5 + 32
