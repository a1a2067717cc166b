"""One page of a long list, as every CRM list is shown."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: Pages past this are not asked for (a page number is a query parameter anyone can type).
MAX_PAGE = 100_000


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int
    pages: int


def page_of(total: int, page: int, per_page: int) -> tuple[int, int, int]:
    """(page number, pages, offset) for `page`, clamped to the pages there are."""
    pages = max(1, -(-total // per_page))
    number = min(max(1, min(page, MAX_PAGE)), pages)
    return number, pages, (number - 1) * per_page
