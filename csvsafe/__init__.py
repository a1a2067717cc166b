"""The one way this project writes CSV: spreadsheet-formula-safe (OWASP "CSV injection").

A cell that a spreadsheet app would read as a formula (it starts with =, +, -, @, a tab or a
carriage return) gets a leading apostrophe, so `=HYPERLINK("http://evil", "click")` planted
by a co-caregiver in an entry title arrives as text in the owner's spreadsheet. Numbers stay
numbers (only text is escaped: -1.5 as a float is not a formula). JSON exports keep the raw
values; only CSV, which is meant for spreadsheet apps, is escaped.

Every CSV the site produces (the data export, the staff access log, any new one) goes through
`writer`; a test fails when some module calls `csv.writer`/`csv.DictWriter` itself.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Byte order mark: spreadsheet apps then read UTF-8 (Chinese) correctly.
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it literally: text that starts like a formula gets "'"."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeDictWriter:
    """`csv.DictWriter` whose every cell (header too) passes through `safe_cell`."""

    def __init__(self, stream: IO[str], columns: list[str]) -> None:
        self.columns = list(columns)
        self._writer = csv.writer(stream)

    def writeheader(self) -> None:
        self._writer.writerow([safe_cell(c) for c in self.columns])

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow([safe_cell(_text(row.get(c))) for c in self.columns])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def _text(value: Any) -> Any:
    return "" if value is None else value


def writer(stream: IO[str], columns: list[str], bom: bool = True) -> SafeDictWriter:
    """A formula-safe writer of dict rows on `stream`, with the BOM and the header written."""
    if bom:
        stream.write(BOM)
    out = SafeDictWriter(stream, columns)
    out.writeheader()
    return out
