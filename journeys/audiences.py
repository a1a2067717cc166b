"""Audiences: who a saved segment holds, as the journeys and campaigns see it.

Segments live in `crm`, above `journeys` in the layering, so nothing here imports them. The
web layer, the scheduler and the command line hand the engine and the marketer campaigns an
`Audience` (`crm.segments.audience`), as they hand email rendering a `SiteLinks`: a function
that turns a segment id into one SELECT of user ids, evaluated at `now`. Without one, a
journey or campaign whose audience is a segment reaches nobody (it waits for a caller that
can resolve it) rather than everybody.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session
from sqlalchemy.sql import Select


class Audience(Protocol):
    def __call__(self, session: Session, segment_id: int,
                 now: datetime | None = None) -> Select[int]:
        """The ids of the users in segment `segment_id` at `now`; raises
        `diary.errors.NotFound` when there is no such segment."""
        ...
