"""Online click-through from the interaction log, by model version, surface and stage, each
against the control (the holdout's lists, logged with model_version "control") on the same
surface and stage, with the 95 % interval of the difference (`online.ctr_lift`, people as the
units: one person's clicks move together).

    online_ctr(session, since) -> list[CtrRow]

Only lists a model or the control ranked count (the library's own order and unversioned rows
do not); rows without impressions (email: clicks only) have no rate. A person's clicks on a
slice are capped at their impressions there (a click on a card seen too briefly to count).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from recommender.models import Interaction, Kind
from recommender.online import Lift, ctr_lift
from recommender.serve import CONTROL_VERSION
from recommender.tracking import LIBRARY_ORDER

ALL_STAGES = ""  # the key of a surface's row over every stage


@dataclass(frozen=True)
class CtrRow:
    model_version: str
    surface: str
    stage: str  # ALL_STAGES for the surface as a whole
    people: int
    impressions: int
    clicks: int
    lift: Lift | None  # against the control; None without both arms

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def is_control(self) -> bool:
        return self.model_version == CONTROL_VERSION


Units = dict[int, list[int]]  # person → [clicks, impressions]


def online_ctr(session: Session, since: datetime | None = None) -> list[CtrRow]:
    """Click-through per (model version, surface, stage) and per (model version, surface),
    the control's rows first on each surface, then by version; each non-control row with its
    lift over the control's row of the same surface and stage."""
    impression = func.sum(case((Interaction.kind == Kind.IMPRESSION.value, 1), else_=0))
    click = func.sum(case((Interaction.kind == Kind.CLICK.value, 1), else_=0))
    stmt = (select(Interaction.model_version, Interaction.surface, Interaction.stage,
                   Interaction.user_id, impression, click)
            .where(Interaction.kind.in_((Kind.IMPRESSION.value, Kind.CLICK.value)),
                   Interaction.model_version.is_not(None),
                   Interaction.model_version != LIBRARY_ORDER,
                   Interaction.user_id.is_not(None))
            .group_by(Interaction.model_version, Interaction.surface, Interaction.stage,
                      Interaction.user_id))
    if since is not None:
        stmt = stmt.where(Interaction.occurred_at >= since)
    slices: dict[tuple[str, str, str], Units] = defaultdict(dict)
    for version, surface, stage, user_id, shown, clicked in session.execute(stmt):
        shown = int(shown or 0)
        clicked = min(int(clicked or 0), shown)  # capped per person and stage
        keys = [(version, surface, ALL_STAGES)]
        if stage:  # a row with no stage counts on the whole surface only
            keys.append((version, surface, stage))
        for key in keys:
            tally = slices[key].setdefault(user_id, [0, 0])
            tally[0] += clicked
            tally[1] += shown
    rows = []
    for (version, surface, stage), units in slices.items():
        capped = [(c, n) for c, n in units.values() if n]
        if not capped:
            continue
        control = slices.get((CONTROL_VERSION, surface, stage))
        lift = None
        if version != CONTROL_VERSION and control:
            base = [(c, n) for c, n in control.values() if n]
            if base:
                lift = ctr_lift(capped, base)
        rows.append(CtrRow(version, surface, stage, len(capped), sum(n for _, n in capped),
                           sum(c for c, _ in capped), lift))
    rows.sort(key=lambda r: (r.surface, r.stage != ALL_STAGES, _stage_order(r.stage),
                             not r.is_control, r.model_version))
    return rows


def _stage_order(stage: str) -> tuple[int, int]:
    unit, _, value = stage.partition(":")
    order = {"pregnancy_week": 0, "week": 1, "month": 2}.get(unit, 3)
    return order, int(value) if value.isdigit() else 0
