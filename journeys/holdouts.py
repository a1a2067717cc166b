"""Holdouts: a fixed, deterministic share of families who get nothing, to measure lift."""
from __future__ import annotations

import hashlib

#: The largest holdout share a marketer may choose for a campaign or a journey.
MAX_SHARE = 0.5


def in_holdout(campaign: str, unit: str, occurrence: str, share: float) -> bool:
    """Deterministic control group: the same (campaign, unit, occurrence) always lands on the
    same side, and about `share` of units are held out. The unit is the family
    ("family:12", or "user:7" for someone in no family), so both parents of a baby are on
    the same side and the lift compares families, not halves of them. The occurrence is part
    of the key, so no family is held out of every birthday."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    digest = hashlib.sha256(f"{campaign}:{unit}:{occurrence}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < share
