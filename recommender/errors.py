"""The recommender's exceptions: each carries a message for the person (or system) that sent
the request, marked with `N_` (see `diary.errors`)."""
from __future__ import annotations

from diary.errors import ValidationError


class InvalidInteraction(ValidationError):
    """A logged event the site cannot take as sent (400 with the reason)."""


class InvalidOrderLine(ValidationError):
    """An order line from the shop that cannot be read (kept out; reported with the reason)."""
