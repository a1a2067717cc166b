"""The Chinese catalogue is complete and keeps every placeholder of the English text."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_every_message_is_translated_with_the_same_placeholders():
    catalog = read_po(PO.open("rb"))
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            problems.append(("untranslated", ids[0]))
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        problems += [("placeholders", ids[0]) for text in strings
                     if set(PLACEHOLDER.findall(text)) != wanted]
    assert problems == []
    assert len(catalog) > 300
