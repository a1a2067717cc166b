"""The segment builder's rows and words: form fields ⇄ conditions, conditions in sentences.

A condition row posts `c-<n>-field`, `c-<n>-op`, `c-<n>-v` (one value, or several for
choices) and `c-<n>-v2` (the second number or stage of a pair); `rows` says how many rows
there are. Rows are parsed as they are (strings) and `crm.segments.validate` decides; the
builder only keeps a row showable (an operator of another field falls back to the field's
first one, as after changing the field without JavaScript).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext, lazy_pgettext, ngettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from content.stages import UNIT_RANGES, UNITS, Stage
from crm import segments
from diary.locales import currency_digits, format_price
from webapp.content_format import CATEGORY_NAMES, stage_label
from webapp.i18n import INTEREST_NAMES, current_locale, join_list

FIELD_NAMES = {
    "stage": _l("Child's stage"),
    "child_age": _l("Child's age"),
    "interests": _l("Interests"),
    "province": _l("Province"),
    "city": _l("City"),
    "tier": _l("Value tier"),
    "clv": _l("Lifetime value (CLV)"),
    "spent": _l("Spent so far"),
    "p_alive": _l("Chance still active"),
    "last_visit": _l("Last visit"),
    "digest": _l("Email digest"),
    "purchased": _l("Purchases"),
}
OP_NAMES = {
    ("stage", "is"): _l("is"),
    ("stage", "between"): _l("is between"),
    ("stage", "expecting"): _l("is on the way"),
    ("stage", "born"): _l("is born"),
    ("child_age", "months_between"): _l("in months, from … to …"),
    ("child_age", "weeks_between"): _l("in weeks, from … to …"),
    ("child_age", "turning_months_within_days"): _l("turns … months within … days"),
    ("interests", "any_of"): _l("include any of"),
    ("interests", "all_of"): _l("include all of"),
    ("interests", "none_of"): _l("include none of"),
    ("province", "in"): _l("is one of"),
    ("province", "not_in"): _l("is none of"),
    ("city", "in"): _l("is one of"),
    ("city", "not_in"): _l("is none of"),
    ("tier", "in"): _l("is one of"),
    ("clv", "at_least"): _l("is at least"),
    ("clv", "below"): _l("is below"),
    ("spent", "at_least"): _l("is at least"),
    ("spent", "below"): _l("is below"),
    ("p_alive", "at_least"): _l("is at least"),
    ("p_alive", "below"): _l("is below"),
    ("last_visit", "within_days"): _l("within the last … days"),
    ("last_visit", "not_within_days"): _l("not within the last … days"),
    ("digest", "received_within_days"): _l("received one in the last … days"),
    ("digest", "clicked_within_days"): _l("clicked one in the last … days"),
    ("digest", "not_clicked_within_days"): _l("clicked none in the last … days"),
    ("purchased", "any_of"): _l("include any of"),
    ("purchased", "none_of"): _l("include none of"),
    ("purchased", "any_within_days"): _l("bought anything in the last … days"),
}
#: The two numbers of each pair, as the inputs' labels.
PAIR_NAMES = {
    "months_between": (_l("From (months)"), _l("To (months)")),
    "weeks_between": (_l("From (weeks)"), _l("To (weeks)")),
    "turning_months_within_days": (_l("Turns (months)"), _l("Within (days)")),
}
TIER_NAMES = {"high": lazy_pgettext("value tier", "High"),
              "medium": lazy_pgettext("value tier", "Medium"),
              "low": lazy_pgettext("value tier", "Low")}
NEW_ROW = {"field": "stage", "op": "born", "value": None}


def choice_names(op: segments.Op) -> dict[str, Any]:
    if op.choices == segments.TIERS:
        return {code: TIER_NAMES[code] for code in op.choices}
    if op.choices == segments.PRODUCT_CATEGORIES:
        return {code: CATEGORY_NAMES.get(code, code) for code in op.choices}
    return {code: INTEREST_NAMES.get(code, code) for code in op.choices}


def stage_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every stage, grouped by unit, for the stage selects."""
    from webapp.content_format import UNIT_NAMES
    groups = []
    for unit in UNITS:
        low, high = UNIT_RANGES[unit]
        groups.append((str(UNIT_NAMES[unit]), [(Stage(unit, v).key, stage_label(Stage(unit, v)))
                                               for v in range(low, high + 1)]))
    return groups


@dataclass
class Row:
    """One condition as the builder shows it: its field, operator and raw values."""

    field: str
    op: str
    values: list[str] = field(default_factory=list)  # "v": one, or the chosen choices
    second: str = ""  # "v2"
    error: str | None = None

    @property
    def spec(self) -> segments.Op:
        return segments.FIELDS[self.field].ops[self.op]

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def first(self) -> str:
        return self.values[0] if self.values else ""

    def condition(self) -> dict[str, Any]:
        """The condition to validate, from the strings the form posted."""
        kind = self.kind
        value: Any
        if kind == "none":
            value = None
        elif kind in ("stage_pair", "int_pair"):
            value = [self.first, self.second]
        elif kind == "choices":
            value = list(self.values)
        else:
            value = self.first
        return {"field": self.field, "op": self.op, "value": value}

    @classmethod
    def of(cls, condition: dict[str, Any]) -> Row:
        """A saved (valid) condition as a row."""
        value = condition.get("value")
        kind = segments.FIELDS[condition["field"]].ops[condition["op"]].kind
        if kind in ("stage_pair", "int_pair"):
            return cls(condition["field"], condition["op"], [str(value[0])], str(value[1]))
        if kind == "choices":
            return cls(condition["field"], condition["op"], list(value))
        if kind == "texts":
            return cls(condition["field"], condition["op"], [", ".join(value)])
        if kind == "money" or kind == "percent":
            return cls(condition["field"], condition["op"], [_number(value)])
        return cls(condition["field"], condition["op"],
                   [] if value is None else [str(value)])


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def rows_of(definition: dict[str, Any] | None) -> list[Row]:
    return [Row.of(c) for c in (definition or {}).get("conditions", [])]


def rows_from_form(form: MultiDict[str, str]) -> list[Row]:
    """The rows the form posted (at most one more than a segment may have), each kept
    showable; `add` and `remove` buttons change the list."""
    raw = form.get("rows", "0")
    count = min(int(raw), segments.MAX_CONDITIONS + 1) if raw.isascii() and raw.isdigit() \
        and len(raw) < 4 else 0
    rows = []
    for n in range(count):
        name = form.get(f"c-{n}-field", "")
        if name not in segments.FIELDS:
            continue
        ops = segments.FIELDS[name].ops
        op = form.get(f"c-{n}-op", "")
        if op not in ops:  # the field changed: start again with its first operator
            rows.append(Row(name, next(iter(ops))))
            continue
        rows.append(Row(name, op, [v for v in form.getlist(f"c-{n}-v") if isinstance(v, str)],
                        form.get(f"c-{n}-v2", "")))
    removed = form.get("remove", "")
    if removed.isascii() and removed.isdigit() and int(removed) < len(rows):
        del rows[int(removed)]
    if "add" in form and len(rows) < segments.MAX_CONDITIONS:
        rows.append(Row(NEW_ROW["field"], NEW_ROW["op"]))
    return rows


def definition_of(rows: list[Row]) -> dict[str, Any]:
    return {"conditions": [row.condition() for row in rows]}


def place_error(rows: list[Row], error: segments.SegmentError, message: str) -> bool:
    """Put a condition's error on its row; False when it is about the whole definition."""
    if error.index is not None and 0 <= error.index < len(rows):
        rows[error.index].error = message
        return True
    return False


# --- conditions in words ---------------------------------------------------------------------

def value_text(c: dict[str, Any]) -> str:
    spec = segments.FIELDS[c["field"]].ops[c["op"]]
    value = c.get("value")
    if spec.kind == "none":
        return ""
    if spec.kind == "stage":
        return stage_label(value)
    if spec.kind == "stage_pair":
        return gettext("%(first)s and %(last)s", first=stage_label(value[0]),
                       last=stage_label(value[1]))
    if spec.kind == "int_pair":
        low, high = value
        if c["op"] == "months_between":
            return ngettext("%(low)d–%(num)d month", "%(low)d–%(num)d months", high, low=low)
        return ngettext("%(low)d–%(num)d week", "%(low)d–%(num)d weeks", high, low=low)
    if spec.kind == "days":
        return ngettext("%(num)d day", "%(num)d days", value)
    if spec.kind == "money":
        minor = round(value * 10 ** currency_digits(segments.CURRENCY))
        return format_price(minor, segments.CURRENCY, current_locale())
    if spec.kind == "percent":
        return gettext("%(num)s %%", num=_number(value))
    if spec.kind == "choices":
        names = choice_names(spec)
        return join_list([str(names.get(v, v)) for v in value],
                         "standard" if c["op"] == "all_of" else "or")
    return join_list(list(value), "or")


def _days_text(c: dict[str, Any]) -> str:
    n, key = c["value"], (c["field"], c["op"])
    if key == ("last_visit", "within_days"):
        return ngettext("Visited in the last %(num)d day", "Visited in the last %(num)d days", n)
    if key == ("last_visit", "not_within_days"):
        return ngettext("Not visited in the last %(num)d day",
                        "Not visited in the last %(num)d days", n)
    if key == ("digest", "received_within_days"):
        return ngettext("Got a digest in the last %(num)d day",
                        "Got a digest in the last %(num)d days", n)
    if key == ("digest", "clicked_within_days"):
        return ngettext("Clicked a digest in the last %(num)d day",
                        "Clicked a digest in the last %(num)d days", n)
    if key == ("digest", "not_clicked_within_days"):
        return ngettext("Clicked no digest in the last %(num)d day",
                        "Clicked no digest in the last %(num)d days", n)
    return ngettext("Bought something in the last %(num)d day",
                    "Bought something in the last %(num)d days", n)


def condition_text(c: dict[str, Any]) -> str:
    """"Value tier is one of: High or Medium", "A child turns 12 months within 31 days"."""
    if segments.FIELDS[c["field"]].ops[c["op"]].kind == "days":
        return _days_text(c)
    if c["field"] == "child_age":
        low, high = c["value"]
        if c["op"] == "turning_months_within_days":
            return ngettext("A child turns %(months)d months within %(num)d day",
                            "A child turns %(months)d months within %(num)d days", high,
                            months=low)
        return gettext("Child's age: %(value)s", value=value_text(c))
    field_name = FIELD_NAMES.get(c["field"], c["field"])
    op_name = OP_NAMES.get((c["field"], c["op"]), c["op"])
    value = value_text(c)
    if not value:
        return gettext("%(field)s %(op)s", field=field_name, op=op_name)
    return gettext("%(field)s %(op)s: %(value)s", field=field_name, op=op_name, value=value)


def definition_text(definition: dict[str, Any] | None) -> list[str]:
    return [condition_text(c) for c in (definition or {}).get("conditions", [])]
