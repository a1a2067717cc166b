"""The one CSV writer: cells a spreadsheet would run as formulas come out as text."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

import csvsafe

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("'=already", "'=already"),
    ("a=1", "a=1"), (" =1", " =1"), ("", ""), ("小米", "小米"),
    (-1.5, -1.5), (3, 3), (None, None), (True, True),
])
def test_safe_cell(value, expected):
    assert csvsafe.safe_cell(value) == expected


def test_the_writer_escapes_every_cell_and_keeps_csv_quoting():
    out = io.StringIO()
    writer = csvsafe.writer(out, ["title", "weight", "missing"])
    writer.writerow({"title": '=HYPERLINK("http://x","y"),"', "weight": -1.5, "extra": "x"})
    text = out.getvalue()
    assert text.startswith(csvsafe.BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["title", "weight", "missing"], ['\'=HYPERLINK("http://x","y"),"', "-1.5", ""]]


def test_no_module_writes_csv_without_the_helper():
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = set(path.relative_to(ROOT).parts)
        if {".venv", "tests", "build", "csvsafe"} & parts:
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
