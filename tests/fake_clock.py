"""A monotonic clock a test moves by hand, for code that takes its timer as a parameter
(`db.liveness.ping_when_idle`, `recommender.artifacts.ArtifactStore`)."""
from __future__ import annotations


class FakeMonotonic:
    """Callable like `time.monotonic`; the test sets or advances `now`."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
