"""What an interaction records about the moment: the child's stage then, in the family's zone."""
from __future__ import annotations

from datetime import datetime

from content.stages import stage_of
from diary.age import local_date
from diary.models import Child


def stage_key_at(child: Child, at: datetime) -> str | None:
    """The child's stage key ("month:3") at the instant `at`, on the family's calendar;
    None before pregnancy week 4 or after five years."""
    stage = stage_of(child, local_date(at, child.family.timezone))
    return stage.key if stage is not None else None
