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


def test_every_string_in_the_code_is_in_the_catalogue():
    """A new `gettext`/`_`/`N_` string without a Chinese translation fails here, not in front
    of a parent (extraction as in the README's update command)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = PO.parents[4]
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None,
                "lazy_gettext": None, "pgettext": ((1, "c"), 2),
                "lazy_pgettext": ((1, "c"), 2)}
    catalog = read_po(PO.open("rb"))
    missing = set()
    for filename, _line, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=keywords):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and catalog.get(msgid, context=context) is None:
            missing.add((filename, msgid))
    assert missing == set(), "run the README's extract + update commands and translate"


def test_pages_and_emails_read_one_catalogue(app):
    """The scheduler renders email without Flask (diary.locales.words); the pages use
    Flask-Babel: both read the same messages.po, so they say the same thing."""
    from flask_babel import force_locale, gettext

    from diary import locales

    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(locales.CATALOGUE_DIR)
    with app.test_request_context(), force_locale("zh_CN"):
        for msgid in ("Email preferences", "Unsubscribe", "Reminders", "Baby, month %(num)d"):
            assert gettext(msgid, num=3) == locales.words("zh_CN").gettext(msgid, num=3) \
                != msgid
