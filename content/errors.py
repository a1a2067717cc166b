"""Content exceptions reuse the diary's user-facing error classes (messages marked N_)."""
from diary.errors import N_, Conflict, DiaryError, NotFound, PermissionDenied, ValidationError

__all__ = ["N_", "Conflict", "DiaryError", "NotFound", "PermissionDenied", "ValidationError"]
