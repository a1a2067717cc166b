"""Find a customer by whatever staff have at hand: email, phone, member number, name, a
child's name or an order id, forgiving case, spacing, full-width characters, phone formats
and small typos.

What is typed is cleaned (`diary.lookup_keys`: NFKC, control characters dropped, spaces
collapsed) and tried as every kind of identifier it could be, each by an index:

1. exact passes, on every database: the member number; the email address and its mailbox
   key (Gmail dots and "+tags" ignored); the phone key (+86, spaces, dashes ignored); the
   name key of the parent and of each child; the order id of a purchase;
2. when nothing matched exactly, starts-with passes (name keys, email addresses) and, on
   PostgreSQL, the last 6 to 10 digits of a phone number (trigram index), bounded;
3. when nothing matched exactly and fewer than a page did, a typo pass: at most
   `edits_allowed` edits (insert, delete, change, swap two neighbours) from the name key or
   the address. One edit: every string one edit away (`neighbours`, about a thousand) is
   looked up exactly by the index, on every database, so a typo anywhere is found at the
   cost of a thousand index probes, however common the name. Two edits (and Chinese names
   one character off, whose alphabet cannot be listed): candidates from trigram GIN indexes
   on PostgreSQL (`pg_trgm`, migration 0008h), elsewhere (SQLite, or PostgreSQL without the
   extension) from a bounded starts-with pass on the first characters. A phone number one
   digit off is not looked for (no index narrows digits down).

Chinese names of two or three characters are matched exactly or by their start, never "one
character off": 李静 and 李晶 are different people, and nearly every 李 is one character
from every other. Only parents are customers: staff accounts are never found. Accounts that
were merged or closed are found and marked as such.

Results are ranked: the best hit's score, a little more for each other kind of hit, and
every hit says what matched and how.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, String, and_, bindparam, func, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from diary import lookup_keys
from diary.errors import N_, ValidationError
from diary.models import Child, Membership, User
from recommender.models import Interaction

#: Longest search (characters, after cleaning); longer is refused, not cut.
MAX_QUERY = 100
#: Results shown; each pass reads at most PASS_LIMIT rows.
LIMIT = 20
PASS_LIMIT = 50
#: Rows a bounded starts-with typo pass reads (SQLite, or PostgreSQL without pg_trgm).
FUZZY_SCAN = 400
#: Trigram candidates a typo pass checks on PostgreSQL (pg_trgm's own similarity threshold,
#: 0.3, is kept: two letters swapped in a name of eight leave about a third of its trigrams).
TRIGRAM_CANDIDATES = 60
#: What a one-edit neighbour of a name key or an address may have in place of a character.
NAME_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
EMAIL_LETTERS = NAME_LETTERS + "._-"
NEIGHBOUR_CHUNK = 1000
#: How many of a number's last digits find it (fewer match too many people).
PHONE_TAIL = (6, 10)

MEMBER_NO = re.compile(r"BJ\d{8}")
MEMBER_DIGITS = re.compile(r"\d{8}")
PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")
ORDER_REF = re.compile(r"[\x21-\x7e]{1,64}")

# What matched: the fields…
MEMBER = "member_no"
EMAIL = "email"
PHONE = "phone"
NAME = "name"
CHILD = "child_name"
ORDER = "order"
# … and how.
EXACT = "exact"
SAME_MAILBOX = "same_mailbox"
STARTS_WITH = "starts_with"
ENDS_WITH = "ends_with"
TYPO = "typo"

SCORES = {
    (MEMBER, EXACT): 100, (ORDER, EXACT): 100, (EMAIL, EXACT): 100, (PHONE, EXACT): 98,
    (EMAIL, SAME_MAILBOX): 95, (NAME, EXACT): 85, (CHILD, EXACT): 80,
    (PHONE, ENDS_WITH): 70, (EMAIL, TYPO): 68, (NAME, TYPO): 64,
    (CHILD, TYPO): 60, (EMAIL, STARTS_WITH): 58, (NAME, STARTS_WITH): 56,
    (CHILD, STARTS_WITH): 52,
}


@dataclass(frozen=True)
class Hit:
    field: str  # MEMBER, EMAIL, PHONE, NAME, CHILD, ORDER
    how: str  # EXACT, SAME_MAILBOX, STARTS_WITH, ENDS_WITH, TYPO
    value: str  # what matched, as stored (the address, the child's name, the order id …)

    @property
    def score(self) -> int:
        return SCORES[(self.field, self.how)]


@dataclass
class Result:
    user: User
    hits: list[Hit] = field(default_factory=list)

    @property
    def score(self) -> int:
        kinds = {h.field for h in self.hits}
        return max(h.score for h in self.hits) + 3 * (len(kinds) - 1)


@dataclass
class Found:
    query: str  # as cleaned
    kind: str  # how the query looked: "member_no", "email", "phone" or "text"
    results: list[Result]
    more: bool  # more customers matched than are shown


def clean_query(query: str | None) -> str:
    """The query as searched; ValidationError when it is longer than MAX_QUERY."""
    cleaned = lookup_keys.clean(query)
    if len(cleaned) > MAX_QUERY:
        raise ValidationError(N_("Search for at most %(count)d characters."), "q",
                              count=MAX_QUERY)
    return cleaned


def kind_of(query: str) -> str:
    """What a cleaned query looks like: "member_no", "email", "phone" or "text"."""
    compact = re.sub(r"[\s-]", "", query).upper()
    if MEMBER_NO.fullmatch(compact):
        return "member_no"
    if "@" in query:
        return "email"
    if PHONE_CHARS.fullmatch(query) and lookup_keys.phone_key(query):
        return "phone"
    return "text"


def edits_allowed(key: str) -> int:
    """How many edits a typo pass forgives: none for short keys (and Chinese names of up to
    three characters), one up to seven characters, two from eight."""
    if any(_is_cjk(ch) for ch in key):
        return 1 if len(key) >= 4 else 0
    if len(key) < 4:
        return 0
    return 1 if len(key) < 8 else 2


def distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, change, swap of neighbours) from a to b; limit + 1 as soon as
    it is certain to be more than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def find(session: Session, query: str | None, limit: int = LIMIT) -> Found:
    """Customers matching the query, best first (see the module's docstring)."""
    q = clean_query(query)
    kind = kind_of(q) if q else "text"
    if not q:
        return Found(q, kind, [], False)
    hits: dict[int, dict[Hit, None]] = {}

    def add(pairs: Iterable[tuple[int, Hit]]) -> None:
        for user_id, hit in pairs:
            if user_id is not None:
                hits.setdefault(user_id, {}).setdefault(hit)

    trigrams = has_trigrams(session)
    add(_member(session, q))
    add(_email_exact(session, q))
    add(_phone(session, q, trigrams, exact=True))
    add(_order(session, q))
    nk = lookup_keys.name_key(q) if kind == "text" else None  # an address is not a name
    if nk:
        add(_names(session, nk, exact=True))
    if not hits:
        add(_email_starts(session, q))
        if nk and len(nk) >= 2:
            add(_names(session, nk, exact=False))
    if not any(h.how in (EXACT, SAME_MAILBOX) for found in hits.values() for h in found):
        add(_phone(session, q, trigrams, exact=False))
        if len(hits) < limit:  # a full page of starts-with hits needs no typo pass
            add(_email_typo(session, q, trigrams))
            if nk:
                add(_names_typo(session, nk, trigrams))
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_(hits), User.staff_role.is_(None)))} if hits else {}
    results = [Result(users[uid], sorted(found, key=lambda h: (-h.score, h.field, h.value)))
               for uid, found in hits.items() if uid in users]
    results.sort(key=lambda r: (-r.score, not r.user.is_active, r.user.id))
    return Found(q, kind, results[:limit], len(results) > limit)


# --- the passes ------------------------------------------------------------------------------

def _member(session: Session, q: str) -> list[tuple[int, Hit]]:
    compact = re.sub(r"[\s-]", "", q).upper()
    if MEMBER_DIGITS.fullmatch(compact):
        compact = "BJ" + compact
    if not MEMBER_NO.fullmatch(compact):
        return []
    return [(uid, Hit(MEMBER, EXACT, no)) for uid, no in session.execute(
        select(User.id, User.member_no).where(User.member_no == compact))]


def _email_exact(session: Session, q: str) -> list[tuple[int, Hit]]:
    if "@" not in q:
        return []
    address = lookup_keys.fold(q).replace(" ", "")
    key = lookup_keys.email_key(address)
    rows = session.execute(
        select(User.id, User.email).where((User.email == address) | (User.email_key == key))
        .limit(PASS_LIMIT))
    return [(uid, Hit(EMAIL, EXACT if email == address else SAME_MAILBOX, email))
            for uid, email in rows]


def _email_starts(session: Session, q: str) -> list[tuple[int, Hit]]:
    """The start of an address ("wang.fang", "wang.fang@exa"): at least three characters."""
    start = lookup_keys.fold(q).replace(" ", "")
    if len(start) < 3 or " " in q.strip() or not start.isascii():
        return []
    rows = session.execute(select(User.id, User.email).where(_starts(session, User.email, start))
                           .limit(PASS_LIMIT))
    return [(uid, Hit(EMAIL, STARTS_WITH, email)) for uid, email in rows]


def _email_typo(session: Session, q: str, trigrams: bool) -> list[tuple[int, Hit]]:
    if "@" not in q:
        return []
    address = lookup_keys.fold(q).replace(" ", "")
    edits = edits_allowed(address)
    local, _, domain = address.rpartition("@")
    if not edits or not local or not domain:
        return []
    # One edit in the name or in the domain: every such address, looked up exactly.
    near = {f"{v}@{domain}" for v in neighbours(local, EMAIL_LETTERS)} | \
        {f"{local}@{v}" for v in neighbours(domain, EMAIL_LETTERS)}
    found = _exactly(session, User.email, near, lambda uid, email: (uid, Hit(EMAIL, TYPO, email)))
    if found or edits < 2:
        return found
    if trigrams:
        if len(local) < 3:
            return []
        local_part = func.split_part(User.email, "@", 1)
        candidates = session.execute(
            select(User.id, User.email).where(local_part.op("%")(local))
            .order_by(func.similarity(local_part, local).desc()).limit(TRIGRAM_CANDIDATES))
    else:
        candidates = session.execute(
            select(User.id, User.email).where(_starts(session, User.email, address[:2]))
            .limit(FUZZY_SCAN))
    return [(uid, Hit(EMAIL, TYPO, email)) for uid, email in candidates
            if distance(address, email, edits) <= edits]


def _phone(session: Session, q: str, trigrams: bool, exact: bool) -> list[tuple[int, Hit]]:
    if not PHONE_CHARS.fullmatch(q):
        return []
    key = lookup_keys.phone_key(q)
    if key is None:
        return []
    if exact:
        return [(uid, Hit(PHONE, EXACT, phone or key)) for uid, phone in session.execute(
            select(User.id, User.phone).where(User.phone_key == key).limit(PASS_LIMIT))]
    if not trigrams or not PHONE_TAIL[0] <= len(key) <= PHONE_TAIL[1]:
        return []  # (no index finds the end of a number without trigrams)
    # The last digits of a number. A number "one digit off" is not looked for: digits make
    # only a thousand trigrams, each in a tenth of all numbers, so no index narrows it.
    return [(uid, Hit(PHONE, ENDS_WITH, phone or pk or key)) for uid, phone, pk in
            session.execute(select(User.id, User.phone, User.phone_key)
                            .where(User.phone_key.like("%" + key)).limit(PASS_LIMIT))]


def _order(session: Session, q: str) -> list[tuple[int, Hit]]:
    if not ORDER_REF.fullmatch(q):
        return []
    variants = sorted({q, q.upper(), q.lower()})
    rows = session.execute(
        select(Interaction.user_id, Interaction.order_ref)
        .where(Interaction.order_ref.is_not(None), Interaction.order_ref.in_(variants))
        .limit(PASS_LIMIT))
    return [(uid, Hit(ORDER, EXACT, ref)) for uid, ref in rows if ref and uid is not None]


def _parents_of(session: Session, children: list[tuple[int, str]], how: str
                ) -> list[tuple[int, Hit]]:
    """Each caregiver of each child found: (user id, the hit naming the child)."""
    if not children:
        return []
    names = dict(children)
    rows = session.execute(
        select(Membership.user_id, Child.id).join(Child, Child.family_id == Membership.family_id)
        .where(Child.id.in_(names)).limit(PASS_LIMIT))
    return [(uid, Hit(CHILD, how, names[cid])) for uid, cid in rows]


def _names(session: Session, nk: str, exact: bool) -> list[tuple[int, Hit]]:
    how = EXACT if exact else STARTS_WITH
    user_match = User.name_key == nk if exact else _starts(session, User.name_key, nk)
    child_match = Child.name_key == nk if exact else _starts(session, Child.name_key, nk)
    found = [(uid, Hit(NAME, how, name)) for uid, name in session.execute(
        select(User.id, User.display_name).where(user_match).limit(PASS_LIMIT))]
    children = [(cid, name) for cid, name in session.execute(
        select(Child.id, Child.name).where(child_match).limit(PASS_LIMIT))]
    return found + _parents_of(session, children, how)


def _names_typo(session: Session, nk: str, trigrams: bool) -> list[tuple[int, Hit]]:
    edits = edits_allowed(nk)
    if not edits:
        return []
    # One edit: every such name, looked up exactly (a typo of a common name finds it at
    # once, without reading the thousands of rows that share its trigrams).
    near = neighbours(nk, NAME_LETTERS if nk.isascii() else "")
    found = _exactly(session, User.name_key, near, lambda uid, name: (uid, Hit(NAME, TYPO, name)),
                     shown=User.display_name)
    kids = _exactly(session, Child.name_key, near, lambda cid, name: (cid, name),
                    shown=Child.name, ids=Child.id)
    if found or kids or edits < 2 and nk.isascii():
        return found + _parents_of(session, kids, TYPO)
    # Further off (two edits, or a Chinese name one character off): nearby candidates.
    if trigrams:
        users = session.execute(
            select(User.id, User.display_name, User.name_key).where(User.name_key.op("%")(nk))
            .order_by(func.similarity(User.name_key, nk).desc()).limit(TRIGRAM_CANDIDATES))
        children = session.execute(
            select(Child.id, Child.name, Child.name_key).where(Child.name_key.op("%")(nk))
            .order_by(func.similarity(Child.name_key, nk).desc()).limit(TRIGRAM_CANDIDATES))
    else:
        start = nk[:2] if len(nk) >= 6 else nk[:1]
        users = session.execute(
            select(User.id, User.display_name, User.name_key)
            .where(_starts(session, User.name_key, start)).limit(FUZZY_SCAN))
        children = session.execute(
            select(Child.id, Child.name, Child.name_key)
            .where(_starts(session, Child.name_key, start)).limit(FUZZY_SCAN))
    found = [(uid, Hit(NAME, TYPO, name)) for uid, name, key in users
             if key and distance(nk, key, edits) <= edits]
    near_kids = [(cid, name) for cid, name, key in children
                 if key and distance(nk, key, edits) <= edits]
    return found + _parents_of(session, near_kids, TYPO)


def neighbours(key: str, letters: str) -> set[str]:
    """Every string one edit from `key`: a character deleted, two neighbours swapped, and
    (with `letters`) a character changed or inserted. A name of 16 letters has about 1,200."""
    out: set[str] = set()
    for i in range(len(key)):
        out.add(key[:i] + key[i + 1:])
        if i + 1 < len(key):
            out.add(key[:i] + key[i + 1] + key[i] + key[i + 2:])
        out.update(key[:i] + ch + key[i + 1:] for ch in letters)
    for i in range(len(key) + 1):
        out.update(key[:i] + ch + key[i:] for ch in letters)
    out.discard(key)
    out.discard("")
    return out


def _exactly(session: Session, column: Any, values: set[str], hit: Any, shown: Any = None,
             ids: Any = None) -> list[Any]:
    """`hit(id, shown)` for each row whose `column` is one of `values` (at most PASS_LIMIT),
    by one index lookup per value. On PostgreSQL a lateral join over the values says so:
    with an IN list of a thousand names the planner, counting a few dozen rows per name,
    would read the whole table instead. SQLite looks each value of an IN list up anyway."""
    shown = column if shown is None else shown
    ids = User.id if ids is None else ids
    if not values:
        return []
    ordered = sorted(values)
    if session.get_bind().dialect.name == "postgresql":
        keys = func.unnest(bindparam("keys", ordered, type_=ARRAY(String))) \
            .table_valued("value").render_derived(name="k")
        match = select(ids.label("id"), shown.label("shown")).where(column == keys.c.value) \
            .limit(PASS_LIMIT).lateral("m")
        rows = session.execute(select(match.c.id, match.c.shown).select_from(keys)
                               .join(match, true()).limit(PASS_LIMIT))
        return [hit(row_id, value) for row_id, value in rows]
    out: list[Any] = []
    for start in range(0, len(ordered), NEIGHBOUR_CHUNK):
        rows = session.execute(select(ids, shown).where(
            column.in_(ordered[start:start + NEIGHBOUR_CHUNK])).limit(PASS_LIMIT - len(out)))
        out += [hit(row_id, value) for row_id, value in rows]
        if len(out) >= PASS_LIMIT:
            break
    return out


# --- the database's side -----------------------------------------------------------------------

def _starts(session: Session, column: Any, start: str) -> ColumnElement[bool]:
    """`column` starts with `start`, as a range an ordinary index answers on any database
    (LIKE would need an index of its own on PostgreSQL, and treats % and _ as wildcards)."""
    return and_(column >= start, column < start + "\U0010ffff")


_TRIGRAMS: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def has_trigrams(session: Session) -> bool:
    """Whether the database is PostgreSQL with `pg_trgm` (asked once per engine)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "postgresql":
        return False
    if engine not in _TRIGRAMS:
        _TRIGRAMS[engine] = bool(session.scalar(
            text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")))
    return _TRIGRAMS[engine]


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0x20000 <= code <= 0x2FA1F or 0xF900 <= code <= 0xFAFF
