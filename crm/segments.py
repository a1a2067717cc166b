"""Segments: saved lists of conditions over customers, compiled to one SELECT of user ids.

A segment's definition is JSON: ``{"conditions": [{"field": …, "op": …, "value": …}, …]}``,
and a customer belongs when every condition holds (AND; no conditions: every customer).
Customers are active parent accounts (staff are never in a segment). `validate` checks and
normalises a definition, raising `SegmentError` (a `ValidationError` naming the condition)
with a message for the person who built it; `members` compiles it to a single
``SELECT users.id …`` — no row is looked at in Python, so it runs the same on SQLite and
PostgreSQL and can be counted, sampled, exported, or handed to journeys and campaigns as their
audience (`audience`).

The fields (`FIELDS`), their operators and values:

* ``stage`` — the child's stage (content.stages, corrected age for preterm babies, the same
  stage the journeys use): ``is`` "month:11"; ``between`` ["pregnancy_week:30", "month:3"]
  (inclusive, in life order); ``expecting`` / ``born`` (no value).
* ``child_age`` — the child's age from the birth date (chronological, as birthdays count):
  ``months_between`` / ``weeks_between`` [from, to] in completed months or weeks;
  ``turning_months_within_days`` [N, X]: the child turns N months today or within the next
  X days (N = 12, X = 31: "turning one within the month").
* ``interests`` — what the parent said they care about: ``any_of`` / ``all_of`` /
  ``none_of`` [codes of diary.vocabulary.INTERESTS].
* ``province`` / ``city`` — the parent's region: ``in`` / ``not_in`` [names] (case and
  surrounding spaces ignored; an empty region is "not in" any list).
* ``tier`` — value tier from the nightly scores (crm.models.CustomerScore): ``in``
  ["high", "medium", "low"]. ``clv`` — discounted CLV in whole currency units
  (``at_least`` / ``below``). ``p_alive`` — BG/NBD probability of being alive, in percent
  (``at_least`` / ``below``). Customers with no score row match none of these three.
* ``last_visit`` — ``within_days`` N / ``not_within_days`` N (never seen counts as not
  within).
* ``digest`` — the email digest: ``received_within_days`` N (a digest was sent to them),
  ``clicked_within_days`` N / ``not_clicked_within_days`` N (a tracked link in a digest).
  Opens are not tracked (no pixel in our email), so a click is the evidence of reading.
* ``purchased`` — shop purchases in the interaction log, by the product's category:
  ``any_of`` / ``none_of`` [categories of content.vocabulary.CATEGORIES["product"]], and
  ``any_within_days`` N (bought anything in the last N days).

Survey scores are not a field yet: surveys do not exist. When they do, a ``survey_score``
field is one more entry in `FIELDS` and one more branch in `_user_condition`.

Child conditions (``stage``, ``child_age``) hold for one and the same child: "stage is month
11 and turning 12 months within 31 days" asks for a child who is both, among the children of
any family the parent belongs to. A child's "today" is its family's own date (ages are counted
in the family's time zone, as everywhere on the site): the families' time zones are read once
and grouped by their local date, so the compiled query has one branch per distinct date (at
most three), not one per family.

Nothing here commits: the caller owns the transaction.
"""
from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement

from clock import utcnow
from content.models import ContentItem
from content.stages import Stage, stage_for_age_days, stage_of, unit_order
from content.vocabulary import CATEGORIES
from crm.models import CustomerScore, Segment
from diary import age as agemath
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.locales import currency_digits
from diary.models import Child, Family, Membership, User
from diary.vocabulary import INTERESTS
from journeys.models import Delivery, EmailClick, Journey, MarketingCampaign
from recommender.models import Interaction, Kind

MAX_CONDITIONS = 12
MAX_TEXTS = 20
TEXT_MAX = 80
NAME_MAX = 120
DESCRIPTION_MAX = 1000
MONEY_MAX = 10_000_000
#: The currency CLV is kept in (customer_scores.clv_minor): the shop's.
CURRENCY = "CNY"
TIERS = ("high", "medium", "low")
PRODUCT_CATEGORIES = CATEGORIES["product"]
SAMPLE_SIZE = 20
EXPORT_COLUMNS = ["member_no", "name", "email", "language", "province", "city",
                  "marketing_opt_in", "tier", "clv", "p_alive", "last_visit_utc"]

_INT = re.compile(r"^\s*-?[0-9]{1,9}\s*$")
_NUMBER = re.compile(r"^\s*-?[0-9]{1,12}(\.[0-9]{1,6})?\s*$")


# --- the catalogue ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Op:
    """An operator and the kind of value it takes.

    kinds: "none", "stage", "stage_pair", "int_pair" (with `bounds` for each number and
    whether they must be in order), "days", "money", "percent", "choices" (from `choices`),
    "texts"."""

    kind: str
    choices: tuple[str, ...] = ()
    bounds: tuple[tuple[int, int], ...] = ()
    ordered: bool = True


@dataclass(frozen=True)
class Field:
    ops: dict[str, Op]
    child: bool = False  # a condition on one child (all of them on the same child)


DAYS = Op("days", bounds=((1, 3650),))
FIELDS: dict[str, Field] = {
    "stage": Field({"is": Op("stage"), "between": Op("stage_pair"),
                    "expecting": Op("none"), "born": Op("none")}, child=True),
    "child_age": Field({
        "months_between": Op("int_pair", bounds=((0, 72), (0, 72))),
        "weeks_between": Op("int_pair", bounds=((0, 260), (0, 260))),
        "turning_months_within_days": Op("int_pair", bounds=((1, 72), (0, 366)),
                                         ordered=False)}, child=True),
    "interests": Field({"any_of": Op("choices", INTERESTS), "all_of": Op("choices", INTERESTS),
                        "none_of": Op("choices", INTERESTS)}),
    "province": Field({"in": Op("texts"), "not_in": Op("texts")}),
    "city": Field({"in": Op("texts"), "not_in": Op("texts")}),
    "tier": Field({"in": Op("choices", TIERS)}),
    "clv": Field({"at_least": Op("money"), "below": Op("money")}),
    "spent": Field({"at_least": Op("money"), "below": Op("money")}),
    "p_alive": Field({"at_least": Op("percent"), "below": Op("percent")}),
    "last_visit": Field({"within_days": DAYS, "not_within_days": DAYS}),
    "digest": Field({"received_within_days": DAYS, "clicked_within_days": DAYS,
                     "not_clicked_within_days": DAYS}),
    "purchased": Field({"any_of": Op("choices", PRODUCT_CATEGORIES),
                        "none_of": Op("choices", PRODUCT_CATEGORIES),
                        "any_within_days": DAYS}),
}


# --- validation ------------------------------------------------------------------------------

class SegmentError(ValidationError):
    """A problem with one condition (`index`, 0-based) or with the definition as a whole."""

    def __init__(self, message: str, index: int | None = None, **params: Any) -> None:
        if index is not None:
            params["num"] = index + 1
        super().__init__(message, "conditions", **params)
        self.index = index


def validate(definition: Any) -> dict[str, Any]:
    """The definition checked and normalised: {"conditions": [{"field", "op", "value"}]}."""
    if not isinstance(definition, dict) or set(definition) - {"conditions"}:
        raise SegmentError(N_("The segment's definition is not valid."))
    conditions = definition.get("conditions", [])
    if not isinstance(conditions, list):
        raise SegmentError(N_("The segment's definition is not valid."))
    if len(conditions) > MAX_CONDITIONS:
        raise SegmentError(N_("A segment can have at most %(max)d conditions."),
                           max=MAX_CONDITIONS)
    return {"conditions": [validate_condition(c, i) for i, c in enumerate(conditions)]}


def validate_condition(condition: Any, index: int = 0) -> dict[str, Any]:
    if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
        raise SegmentError(N_("Condition %(num)d is not valid."), index)
    name, op_name = condition.get("field"), condition.get("op")
    if not isinstance(name, str) or name not in FIELDS:
        raise SegmentError(N_("Condition %(num)d: “%(name)s” is not a field segments know."),
                           index, name=_shown(name))
    op = FIELDS[name].ops.get(op_name) if isinstance(op_name, str) else None
    if op is None:
        raise SegmentError(N_("Condition %(num)d: “%(name)s” cannot be used with this field."),
                           index, name=_shown(op_name))
    value = _value(op, condition.get("value"), index)
    return {"field": name, "op": op_name, "value": value}


def _shown(value: Any) -> str:
    """What someone sent, short enough to show back (never a whole payload)."""
    text = value if isinstance(value, str) else repr(value)
    return text[:40]


def _value(op: Op, value: Any, index: int) -> Any:
    kind = op.kind
    if kind == "none":
        if value not in (None, "", []):
            raise SegmentError(N_("Condition %(num)d: this comparison takes no value."), index)
        return None
    if kind == "stage":
        return _stage(value, index).key
    if kind == "stage_pair":
        if not isinstance(value, list) or len(value) != 2:
            raise SegmentError(N_("Condition %(num)d: choose a first and a last stage."), index)
        low, high = (_stage(v, index) for v in value)
        if _order(low) > _order(high):
            raise SegmentError(N_("Condition %(num)d: the first stage must come before the "
                                  "last."), index)
        return [low.key, high.key]
    if kind == "int_pair":
        if not isinstance(value, list) or len(value) != 2:
            raise SegmentError(N_("Condition %(num)d: enter two whole numbers."), index)
        numbers = [_int(v, bounds, index) for v, bounds in zip(value, op.bounds, strict=True)]
        if op.ordered and numbers[0] > numbers[1]:
            raise SegmentError(N_("Condition %(num)d: the first number must not be larger "
                                  "than the second."), index)
        return numbers
    if kind == "days":
        return _int(value, op.bounds[0], index)
    if kind == "money":
        amount = _number(value, index)
        if not 0 <= amount <= MONEY_MAX:
            raise SegmentError(N_("Condition %(num)d: enter an amount from 0 to %(high)d."),
                               index, high=MONEY_MAX)
        return round(amount, 2)
    if kind == "percent":
        share = _number(value, index)
        if not 0 <= share <= 100:
            raise SegmentError(N_("Condition %(num)d: enter a percentage from 0 to 100."),
                               index)
        return round(share, 2)
    if kind == "choices":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or \
                not all(isinstance(v, str) for v in value):
            raise SegmentError(N_("Condition %(num)d: choose at least one of the offered "
                                  "values."), index)
        unknown = sorted({v for v in value if v not in op.choices})
        if unknown:
            raise SegmentError(N_("Condition %(num)d: unknown values: %(names)s."), index,
                               names=", ".join(_shown(v) for v in unknown[:5]))
        return [c for c in op.choices if c in set(value)]
    if kind == "texts":
        return _texts(value, index)
    raise AssertionError(kind)


def _stage(value: Any, index: int) -> Stage:
    stage = Stage.parse(value) if isinstance(value, str) else None
    if stage is None:
        raise SegmentError(N_("Condition %(num)d: choose a stage."), index)
    return stage


def _order(stage: Stage) -> tuple[int, int]:
    return unit_order(stage.unit), stage.value


def _int(value: Any, bounds: tuple[int, int], index: int) -> int:
    low, high = bounds
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INT.match(value):
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise SegmentError(N_("Condition %(num)d: enter whole numbers from %(low)d to "
                              "%(high)d."), index, low=low, high=high)
    return number


def _number(value: Any, index: int) -> float:
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.match(value):
        number = float(value.strip())
    if number is None or not math.isfinite(number):
        raise SegmentError(N_("Condition %(num)d: enter a number."), index)
    return number


def _texts(value: Any, index: int) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        value = None
    else:
        value = list(dict.fromkeys(" ".join(v.split()) for v in value if v.strip()))
    if not value or len(value) > MAX_TEXTS or any(
            len(v) > TEXT_MAX or not v.isprintable() for v in value):
        raise SegmentError(N_("Condition %(num)d: enter one to %(max)d names, separated by "
                              "commas, each up to %(len)d characters."), index,
                           max=MAX_TEXTS, len=TEXT_MAX)
    return value


# --- SQL helpers ---------------------------------------------------------------------------

class day_number(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it is
    """A DATE column as its proleptic Gregorian ordinal (Python's `date.toordinal()`), so
    days can be added to a date column the same way on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 1721424.5 AS INTEGER)"


@compiles(day_number)
def _day_number_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '0001-01-01' + 1)"


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _span(first: date, last: date, keep: Callable[[date], bool]) -> tuple[date, date] | None:
    """The days from `first` to `last` for which `keep` holds, as (earliest, latest). Every
    rule here is monotone in the date, so they are one run; a gap would be a bug."""
    hits = [first + timedelta(days=n) for n in range((last - first).days + 1)
            if keep(first + timedelta(days=n))]
    if not hits:
        return None
    low, high = hits[0], hits[-1]
    if len(hits) != (high - low).days + 1:
        raise AssertionError("a segment date rule is not one run of days")
    return low, high


# --- compiling: child conditions -------------------------------------------------------------

_GESTATION = Child.gestational_weeks_at_birth * 7 + func.coalesce(
    Child.gestational_days_at_birth, 0)
_PRETERM_DAYS = agemath.PRETERM_WEEKS * 7


def _effective_birth(today: date) -> ColumnElement[int]:
    """The day (as a `day_number`) the child's stage age counts from on `today`: the
    corrected birth date while correction applies (born before 37 weeks, under 24 months old,
    and already past the due date), else the birth date — `diary.age.effective_age_on`."""
    last_uncorrected = _span(_months_before(today, 24) - timedelta(days=4),
                             _months_before(today, 24) + timedelta(days=4),
                             lambda b: agemath.age_on(b, today).months >= 24)
    assert last_uncorrected is not None
    born = day_number(Child.birth_date)
    corrected_birth = born + agemath.FULL_TERM_DAYS - _GESTATION
    corrected = and_(Child.gestational_weeks_at_birth.is_not(None),
                     _GESTATION < _PRETERM_DAYS, Child.birth_date > last_uncorrected[1],
                     corrected_birth <= today.toordinal())
    return case((corrected, corrected_birth), else_=born)


def _born(today: date) -> ColumnElement[bool]:
    return and_(Child.birth_date.is_not(None), Child.birth_date <= today)


def _expecting(today: date) -> ColumnElement[bool]:
    return and_(Child.due_date.is_not(None),
                or_(Child.birth_date.is_(None), Child.birth_date > today))


@dataclass(frozen=True)
class _Due:
    """A child as `stage_of` sees it, from a due date only (unborn)."""

    due_date: date | None
    birth_date: date | None = None
    gestational_weeks_at_birth: int | None = None
    gestational_days_at_birth: int | None = None


def _stage_range(low: Stage, high: Stage, today: date) -> ColumnElement[bool]:
    lo, hi = _order(low), _order(high)

    def inside(stage: Stage | None) -> bool:
        return stage is not None and lo <= _order(stage) <= hi

    parts: list[ColumnElement[bool]] = []
    if low.unit == "pregnancy_week":
        earliest = today - timedelta(days=30)
        dues = _span(earliest, today + timedelta(days=300),
                     lambda d: inside(stage_of(_Due(d), today)))
        if dues is not None:
            # Week 42 holds every later week too: a due date long past is still week 42.
            due = Child.due_date <= dues[1] if dues[0] == earliest else \
                Child.due_date.between(*dues)
            parts.append(and_(_expecting(today), due))
    if high.unit != "pregnancy_week":
        def born_stage(b: date) -> Stage | None:
            age = agemath.age_on(b, today)
            return None if age.months > 60 else stage_for_age_days(age.days, age.months)
        births = _span(_months_before(today, 61) - timedelta(days=7), today,
                       lambda b: inside(born_stage(b)))
        if births is not None:
            effective = _effective_birth(today)
            parts.append(and_(_born(today), effective >= births[0].toordinal(),
                              effective <= births[1].toordinal()))
    return or_(*parts) if parts else false()


def _child_condition(c: dict[str, Any], today: date) -> ColumnElement[bool]:
    field, op, value = c["field"], c["op"], c["value"]
    if field == "stage":
        if op == "expecting":
            return _expecting(today)
        if op == "born":
            return _born(today)
        if op == "is":
            stage = Stage.parse(value)
            assert stage is not None
            return _stage_range(stage, stage, today)
        low, high = (Stage.parse(v) for v in value)
        assert low is not None and high is not None
        return _stage_range(low, high, today)
    first, second = value
    if op == "months_between":
        span = _span(_months_before(today, second + 1) - timedelta(days=4), today,
                     lambda b: first <= agemath.age_on(b, today).months <= second)
    elif op == "weeks_between":
        span = (today - timedelta(days=7 * second + 6), today - timedelta(days=7 * first))
        span = span if span[0] <= span[1] else None
    else:  # turning_months_within_days: [N months, within X days]
        end = today + timedelta(days=second)
        span = _span(_months_before(today, first) - timedelta(days=4),
                     min(_months_before(end, first) + timedelta(days=4), today),
                     lambda b: today <= agemath.add_months(b, first) <= end)
    if span is None:
        return false()
    return and_(_born(today), Child.birth_date.between(*span))


# --- compiling: conditions on the person -----------------------------------------------------

def _interest(code: str) -> ColumnElement[bool]:
    """The parent chose this interest. Interests are stored as a JSON list of codes from a
    fixed vocabulary of letters and underscores, so the quoted code in the list's text is an
    exact match (LIKE's "_" escaped) on both databases."""
    return func.coalesce(cast(User.interests, Text), "").contains(f'"{code}"', autoescape=True)


def _region(column: Any, names: list[str]) -> ColumnElement[bool]:
    return func.lower(func.trim(func.coalesce(column, ""))).in_([n.lower() for n in names])


def _scores(*where: Any) -> ColumnElement[bool]:
    return User.id.in_(select(CustomerScore.user_id).where(*where))


def _digest_clicks(since: datetime) -> Any:
    return select(EmailClick.id).join(Delivery, Delivery.id == EmailClick.delivery_id).where(
        EmailClick.user_id == User.id, Delivery.item_key.like("digest:%"),
        EmailClick.clicked_at >= since).exists()


def _purchases(*where: Any) -> Any:
    return select(Interaction.id).where(Interaction.user_id == User.id,
                                        Interaction.kind == Kind.PURCHASE.value,
                                        *where).exists()


def _user_condition(c: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    field, op, value = c["field"], c["op"], c["value"]
    if field == "interests":
        matches = [_interest(code) for code in value]
        if op == "any_of":
            return or_(*matches)
        if op == "all_of":
            return and_(*matches)
        return not_(or_(*matches))
    if field in ("province", "city"):
        inside = _region(User.region_province if field == "province" else User.region_city,
                         value)
        return inside if op == "in" else not_(inside)
    if field == "tier":
        return _scores(CustomerScore.tier.in_(value))
    if field in ("clv", "spent"):  # what they are worth ahead / what they have spent
        minor = round(value * 10 ** currency_digits(CURRENCY))
        column = CustomerScore.clv_minor if field == "clv" else CustomerScore.monetary_minor
        return _scores(column >= minor if op == "at_least" else column < minor)
    if field == "p_alive":
        share = value / 100
        return _scores(CustomerScore.p_alive >= share if op == "at_least"
                       else CustomerScore.p_alive < share)
    since = now - timedelta(days=value) if isinstance(value, int) else now
    if field == "last_visit":
        recent = and_(User.last_seen_at.is_not(None), User.last_seen_at >= since)
        return recent if op == "within_days" else not_(recent)
    if field == "digest":
        if op == "received_within_days":
            return select(Delivery.id).where(
                Delivery.user_id == User.id, Delivery.item_key.like("digest:%"),
                Delivery.status == "sent", Delivery.sent_at >= since).exists()
        clicked = _digest_clicks(since)
        return clicked if op == "clicked_within_days" else not_(clicked)
    if field == "purchased":
        if op == "any_within_days":
            return _purchases(Interaction.occurred_at >= since)
        bought = _purchases(Interaction.item_id.in_(
            select(ContentItem.id).where(ContentItem.category.in_(value))))
        return bought if op == "any_of" else not_(bought)
    raise AssertionError(field)


# --- compiling: the whole definition ---------------------------------------------------------

def customers() -> Select[int]:
    """Everyone a segment can hold: active parent accounts."""
    return select(User.id).where(User.is_active.is_(True), User.staff_role.is_(None))


def _zone_days(session: Session, now: datetime) -> dict[date, list[str]]:
    """The families' time zones grouped by their local date at `now`."""
    days: dict[date, list[str]] = {}
    for (zone,) in session.execute(select(Family.timezone).distinct().order_by(
            Family.timezone)):
        try:
            day = agemath.local_date(now, zone)
        except (KeyError, ValueError):  # an unknown zone: counted in UTC
            day = agemath.local_date(now, "UTC")
        days.setdefault(day, []).append(zone)
    return days


def members(session: Session, definition: Any, now: datetime | None = None
            ) -> Select[int]:
    """One SELECT of the ids of the customers the definition holds, at `now`."""
    now = now or utcnow()
    clean = validate(definition)
    stmt = customers()
    child_conditions = [c for c in clean["conditions"] if FIELDS[c["field"]].child]
    for c in clean["conditions"]:
        if not FIELDS[c["field"]].child:
            stmt = stmt.where(_user_condition(c, now))
    if child_conditions:
        by_day = [and_(Family.timezone.in_(zones),
                       *(_child_condition(c, day) for c in child_conditions))
                  for day, zones in _zone_days(session, now).items()]
        stmt = stmt.where(select(Child.id)
                          .join(Membership, Membership.family_id == Child.family_id)
                          .join(Family, Family.id == Child.family_id)
                          .where(Membership.user_id == User.id,
                                 or_(*by_day) if by_day else false()).exists())
    return stmt


def count(session: Session, definition: Any, now: datetime | None = None) -> int:
    ids = members(session, definition, now).subquery()
    return session.scalar(select(func.count()).select_from(ids)) or 0


def sample(session: Session, definition: Any, now: datetime | None = None,
           size: int = SAMPLE_SIZE) -> list[User]:
    """A few members to look at (the newest accounts first)."""
    ids = members(session, definition, now)
    return list(session.scalars(select(User).where(User.id.in_(ids))
                                .order_by(User.id.desc()).limit(size)))


def everyone(session: Session, definition: Any, now: datetime | None = None) -> list[User]:
    """Every member (for the access log's record of an export)."""
    return list(session.scalars(select(User).where(User.id.in_(members(session, definition,
                                                                       now)))
                                .order_by(User.id)))


def scores_of(session: Session, users: list[User]) -> dict[int, CustomerScore]:
    """The nightly scores of these people, by user id (absent: not scored)."""
    if not users:
        return {}
    return {c.user_id: c for c in session.scalars(select(CustomerScore).where(
        CustomerScore.user_id.in_([u.id for u in users])))}


def names_of(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Display names of staff who saved segments, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {user_id: name for user_id, name in session.execute(
        select(User.id, User.display_name).where(User.id.in_(wanted)))}


def export_rows(session: Session, definition: Any, now: datetime | None = None,
                batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every member as a row of `EXPORT_COLUMNS`, read `batch` at a time (oldest first)."""
    now = now or utcnow()
    ids = members(session, definition, now)
    digits = currency_digits(CURRENCY)
    last = 0
    while True:
        rows = session.execute(
            select(User, CustomerScore).outerjoin(CustomerScore,
                                                  CustomerScore.user_id == User.id)
            .where(User.id.in_(ids), User.id > last).order_by(User.id).limit(batch)).all()
        for user, score in rows:
            yield {"member_no": user.member_no, "name": user.display_name,
                   "email": user.email, "language": user.locale,
                   "province": user.region_province, "city": user.region_city,
                   "marketing_opt_in": "yes" if user.marketing_opt_in else "no",
                   "tier": score.tier if score else None,
                   "clv": f"{score.clv_minor / 10 ** digits:.{digits}f}" if score else None,
                   "p_alive": f"{score.p_alive:.3f}" if score else None,
                   "last_visit_utc": user.last_seen_at.isoformat() if user.last_seen_at
                   else None}
        if len(rows) < batch:
            return
        last = rows[-1][0].id
        for user, score in rows:  # keep memory flat over a long export
            session.expunge(user)
            if score is not None:
                session.expunge(score)


def audience(session: Session, segment_id: int, now: datetime | None = None
             ) -> Select[int]:
    """The members of saved segment `segment_id` (NotFound if there is none): what the web
    layer and the scheduler hand journeys and campaigns as their `journeys.audiences.
    Audience`, so they can use a segment without importing crm."""
    return members(session, get(session, segment_id).definition, now)


# --- saved segments --------------------------------------------------------------------------

def get(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id) if 0 < segment_id < 2**31 else None
    if segment is None:
        raise NotFound()
    return segment


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(func.lower(Segment.name),
                                                         Segment.id)))


def _name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationError(N_("Give the segment a name."), "name")
    if len(text) > NAME_MAX:
        raise ValidationError(N_("Keep the name under %(max)d characters."), "name",
                              max=NAME_MAX)
    return text


def _description(text: Any) -> str:
    clean = str(text or "").strip()
    if len(clean) > DESCRIPTION_MAX:
        raise ValidationError(N_("Keep the description under %(max)d characters."),
                              "description", max=DESCRIPTION_MAX)
    return clean


def _unique(session: Session, name: str, segment_id: int | None) -> None:
    clash = session.scalar(select(Segment.id).where(func.lower(Segment.name) == name.lower(),
                                                    Segment.id != (segment_id or 0)))
    if clash is not None:
        raise Conflict(N_("Another segment is already called “%(name)s”."), "name", name=name)


def _flush_unique(session: Session, name: str) -> None:
    """Write now, in a savepoint: a name someone else saved a moment ago (after `_unique`
    looked) is refused with the same message, not an error at commit."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(N_("Another segment is already called “%(name)s”."), "name",
                       name=name) from None


def create(session: Session, staff: User, name: str, description: str,
           definition: Any) -> Segment:
    clean_name = _name(name)
    segment = Segment(name=clean_name, description=_description(description),
                      definition=validate(definition), version=1, created_by_id=staff.id,
                      updated_by_id=staff.id)
    _unique(session, clean_name, None)
    session.add(segment)
    _flush_unique(session, clean_name)
    return segment


def update(session: Session, segment: Segment, staff: User, version: int | None, name: str,
           description: str, definition: Any) -> Segment:
    """Change a segment; refused when someone saved it since `version` was shown."""
    if version is not None and version != segment.version:
        raise Conflict(N_("Someone changed this segment while you were editing it (it is now "
                          "version %(version)d). Check it and save again."),
                       version=segment.version)
    clean_name = _name(name)
    clean = validate(definition)
    _unique(session, clean_name, segment.id)
    text = _description(description)
    if (clean_name, text, clean) != (segment.name, segment.description, segment.definition):
        segment.name, segment.description, segment.definition = clean_name, text, clean
        segment.version += 1
        segment.updated_by_id = staff.id
    _flush_unique(session, clean_name)
    return segment


@dataclass(frozen=True)
class Usage:
    campaigns: list[MarketingCampaign]
    journeys: list[Journey]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.campaigns] + [j.name for j in self.journeys]


def usage(session: Session, segment_id: int) -> Usage:
    """The campaigns and journeys whose audience is this segment."""
    campaigns = list(session.scalars(select(MarketingCampaign).where(
        MarketingCampaign.segment_id == segment_id).order_by(MarketingCampaign.name)))
    journeys = [j for j in session.scalars(select(Journey).order_by(Journey.name))
                if (j.entry_rule or {}).get("segment") == segment_id]
    return Usage(campaigns, journeys)


def delete(session: Session, segment: Segment, version: int | None = None) -> None:
    """Delete a segment no campaign or journey uses (their audience would vanish)."""
    if version is not None and version != segment.version:
        raise Conflict(N_("Someone changed this segment while you were looking at it (it is "
                          "now version %(version)d). Check it and try again."),
                       version=segment.version)
    used = usage(session, segment.id)
    if used.names:
        raise Conflict(N_("This segment is the audience of %(names)s. Choose another audience "
                          "there first."), names=", ".join(used.names))
    session.delete(segment)
    session.flush()

