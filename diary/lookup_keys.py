"""Lookup keys: the forms of a name, an email address or a phone number that staff search by
and that duplicates are found by, so "ＬＩ  Wei", "li wei" and "Liwei" are one name, and
"+86 138-0013-8000" and "13800138000" one phone.

The keys are stored beside what the person typed (`User.name_key`, `email_key`, `phone_key`;
`Child.name_key`), filled by the models on every insert and update, and indexed: a search
normalises what staff type the same way and finds it by an index, never by scanning. Pure
functions, no database: the CRM's search and duplicate detection use the same ones.
"""
from __future__ import annotations

import unicodedata

NAME_KEY_LENGTH = 80
EMAIL_KEY_LENGTH = 254
PHONE_KEY_LENGTH = 32
#: Fewer digits than this is not a phone number anyone could be found by.
PHONE_MIN_DIGITS = 5
#: Providers whose addresses ignore dots in the local part (one mailbox, many spellings).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
CHINA = "86"


def clean(text: str | None) -> str:
    """NFKC (full-width letters and digits become plain ones), control and format
    characters dropped, whitespace runs made one space, trimmed."""
    folded = unicodedata.normalize("NFKC", text or "")
    kept = "".join(" " if ch.isspace() else ch for ch in folded
                   if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return " ".join(kept.split())


def fold(text: str | None) -> str:
    """`clean`, then case-folded: what two spellings of one thing have in common."""
    return clean(text).casefold()


def name_key(name: str | None) -> str | None:
    """Letters and digits only, folded: "Li  Wei", "LI-WEI" and "ｌｉｗｅｉ" are "liwei";
    "李 静" is "李静". None when nothing is left."""
    key = "".join(ch for ch in fold(name) if ch.isalnum())[:NAME_KEY_LENGTH]
    return key or None


def email_key(email: str | None) -> str | None:
    """One mailbox, one key: folded, "+tags" dropped (most providers deliver
    "anna+shop@x" to "anna@x"), and for Gmail the dots too ("a.n.na@googlemail.com" is
    "anna@gmail.com"). Two accounts with one key are probably one person."""
    text = fold(email).replace(" ", "")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return text[:EMAIL_KEY_LENGTH] or None
    domain = domain.strip(".")
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"[:EMAIL_KEY_LENGTH]


def phone_key(phone: str | None) -> str | None:
    """The digits of a phone number as dialled inside its country: "+86 138-0013-8000",
    "0086 13800138000" and "138 0013 8000" are "13800138000"; "+86 21 1234 5678" is
    "02112345678". Numbers of other countries keep their country code. None for fewer
    than PHONE_MIN_DIGITS digits."""
    text = clean(phone)
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    international = text.startswith("+")
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if digits.startswith(CHINA):
        rest = digits[len(CHINA):]
        if len(rest) == 11 and rest.startswith("1"):  # a mobile, with or without the "+"
            digits = rest
        elif international and 9 <= len(rest) <= 11 and not rest.startswith("0"):
            digits = "0" + rest  # a landline: the trunk "0" comes back
    if len(digits) < PHONE_MIN_DIGITS:
        return None
    return digits[:PHONE_KEY_LENGTH]
