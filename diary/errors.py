"""Diary exceptions. Each carries a message fit to show the person who caused it.

Messages are English templates with %(name)s placeholders, marked with `N_` so the
translation tools find them; the web layer translates the template and then fills it in
(parameters marked with `N_` are translated too; everything else is shown as given).
"""
from __future__ import annotations

from typing import Any


class Term(str):
    """A string marked with `N_`: a message id to translate, not a value someone typed."""

    __slots__ = ()


def N_(message: str) -> str:
    """Mark a string for translation without translating it here (no Flask in domain code).

    The mark stays visible at run time (`Term`), so an error's parameters are translated
    only when they are our own words (a field label, a language name), never when they are
    what a person typed (a slug, a URL, a name)."""
    return Term(message)


class DiaryError(Exception):
    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


class ValidationError(DiaryError):
    """Input that cannot be stored as given."""


class NotFound(DiaryError):
    """Missing, or not visible to this person: both look the same from outside (404)."""

    def __init__(self, message: str = N_("Not found.")) -> None:
        super().__init__(message)


class PermissionDenied(DiaryError):
    """A family member tried something their role does not allow (403)."""

    def __init__(self, message: str = N_("Your role in this family does not allow that."),
                 **params: Any) -> None:
        super().__init__(message, **params)


class Conflict(DiaryError):
    """The request clashes with existing data, e.g. an email already registered."""
