"""Content exceptions reuse the diary's user-facing error classes (messages marked N_)."""
from diary.errors import N_, Conflict, DiaryError, NotFound, PermissionDenied, ValidationError

__all__ = ["N_", "Conflict", "DiaryError", "NotFound", "PermissionDenied", "StaleVersion",
           "ValidationError"]


class StaleVersion(Conflict):
    """Publishing names the version that was reviewed; a newer one has been saved since.

    `reviewed` is the number the reviewer looked at, `current` the one a publish would now
    put live (the web layer links to the changes between the two)."""

    def __init__(self, reviewed: int, current: int, author: str) -> None:
        super().__init__(N_("This item changed since you opened it (version %(number)d by "
                            "%(author)s). Review the new version before publishing."),
                         "version", number=current, author=author)
        self.reviewed = reviewed
        self.current = current
