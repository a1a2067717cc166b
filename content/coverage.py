"""Coverage: which stages × locales × kinds have content, and where the gaps are."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.library import live
from content.models import ContentItem, Status
from content.stages import Stage, coverage_stages, in_window
from diary.locales import LOCALES

COVERED_KINDS = ("article", "reminder", "product")


def report(session: Session, include_drafts: bool = False, now: datetime | None = None,
           stages: list[Stage] | None = None) -> dict[str, Any]:
    """`{"counts": {kind: {stage: {locale: n}}}, "gaps": [...], "thin": [...]}`.

    A gap is a stage with no item of a kind in a locale; a thin spot has exactly one.
    Counts published content (and drafts in review too when `include_drafts`).
    """
    stmt = select(ContentItem).where(ContentItem.kind.in_(COVERED_KINDS)).options(
        selectinload(ContentItem.translations))
    if include_drafts:
        stmt = stmt.where(ContentItem.status != Status.ARCHIVED.value)
    else:
        stmt = stmt.where(live(now))
    items = list(session.scalars(stmt))
    counts: dict[str, dict[str, dict[str, int]]] = {
        kind: defaultdict(lambda: dict.fromkeys(LOCALES, 0)) for kind in COVERED_KINDS}
    rows = stages or coverage_stages()
    for stage in rows:
        for kind in COVERED_KINDS:
            counts[kind][stage.key]  # every stage appears, zeros included
    for item in items:
        locales = {t.locale for t in item.translations if t.title}
        for stage in rows:
            if in_window(item.window_unit, item.window_from, item.window_to, stage):
                for locale in locales & set(LOCALES):
                    counts[item.kind][stage.key][locale] += 1
    gaps, thin = [], []
    for kind in COVERED_KINDS:
        for stage in rows:
            for locale in LOCALES:
                n = counts[kind][stage.key][locale]
                entry = {"stage": stage.key, "locale": locale, "kind": kind}
                if n == 0:
                    gaps.append(entry)
                elif n == 1 and kind == "article":
                    thin.append(entry)
    return {"counts": {k: dict(v) for k, v in counts.items()}, "gaps": gaps, "thin": thin,
            "stages": [s.key for s in rows]}
