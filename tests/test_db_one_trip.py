"""db.one_trip: several SELECTs in one statement give each the rows, values and types it gets
alone (on SQLite and, with TEST_DATABASE_URL, PostgreSQL), in one round trip."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, null, select

from db import core_rows
from db import one_trip as one_trip_module
from db.one_trip import one_trip, one_trip_with_entities
from diary import daily_summary, entries, families, timers
from diary.entry_kinds import EntryInput
from diary.errors import NotFound, PermissionDenied
from diary.models import Child, Entry, Family, Membership
from journeys import inbox, ledger

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
BORN = date(2026, 9, 1)

FAMILY = select(Family.id, Family.name, Family.timezone, Family.created_at).where(
    Family.id == bindparam("family_id"))
NEWEST = (select(Entry.id, Entry.kind, Entry.occurred_at, Entry.data)
          .where(Entry.child_id == bindparam("child_id"))
          .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(bindparam("newest")))


@pytest.fixture()
def family(session, make_family, clock_at):  # type: ignore[no-untyped-def]
    clock_at(NOW)
    user, child = make_family(birth_date=BORN)
    for minutes, kind, data in ((90, "feeding", {"method": "bottle_formula", "amount_ml": 120}),
                                (30, "diaper", {"wet": True}),
                                (10, "diaper", {"dirty": True})):
        entries.create_entry(session, child, user, EntryInput(
            kind, NOW - timedelta(minutes=minutes), data=data))
    timers.start(session, child, user, "sleep", now=NOW - timedelta(minutes=20))
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=None,
                                     channel="inbox", item_key="hello", occurrence="1",
                                     title="Hello", body="Hi")])
    session.flush()
    return user, child


def _statements(session):  # type: ignore[no-untyped-def]
    sent: list[str] = []
    connection = session.connection()

    def record(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    return sent, lambda: event.remove(connection, "before_cursor_execute", record)


def test_each_part_gets_the_rows_and_types_it_gets_alone(session, family):
    user, child = family
    params = {"family_id": child.family_id, "child_id": child.id, "newest": 2}
    alone = {"family": [tuple(r) for r in core_rows(session, FAMILY, params)],
             "newest": [tuple(r) for r in core_rows(session, NEWEST, params)]}
    sent, stop = _statements(session)
    try:
        found = one_trip(session, family=(FAMILY, {"family_id": child.family_id}),
                         newest=(NEWEST, {"child_id": child.id, "newest": 2}))
    finally:
        stop()
    assert len(sent) == 1
    assert {name: [tuple(r) for r in rows] for name, rows in found.items()} == alone
    # exact values, typed: aware datetimes, decoded JSON, in the part's own order
    assert [(r.kind, r.occurred_at, r.data) for r in found["newest"]] == [
        ("diaper", NOW - timedelta(minutes=10), {"wet": False, "dirty": True}),
        ("diaper", NOW - timedelta(minutes=30), {"wet": True, "dirty": False})]
    assert found["family"][0].created_at.tzinfo is not None
    assert found["family"][0].name == child.family.name


def test_the_child_page_reads_are_what_they_are_alone(session, family):
    """The child home's three reads: the daily part, the newest entries, and the inbox
    headlines with the unread count."""
    user, child = family
    found = one_trip(session,
                     day=daily_summary.child_day_query(child.id, child.family.timezone, NOW),
                     latest=entries.timeline_query(child.id, limit=3),
                     inbox=inbox.headlines_query(user, child.id, "en", now=NOW))
    day = daily_summary.child_day_of(found["day"], NOW)
    assert day == daily_summary.child_day(session, child, NOW)
    assert day.status.asleep_minutes == 20 and day.status.last_feed is not None
    assert [r.id for r in entries.timeline_refs_of(found["latest"], 3).refs] == [
        r.id for r in entries.timeline_refs(session, child, limit=3).refs]
    # the UNION ALL promises no order: newest first whatever order the rows come in
    assert entries.timeline_refs_of(found["latest"][::-1], 3) == entries.timeline_refs_of(
        found["latest"], 3)
    assert inbox.headlines_of(session, found["inbox"]) == inbox.headlines_and_unread(
        session, user, child.id, "en", now=NOW) == ([], 1)  # a text message: counted only


def test_an_empty_part_has_no_rows_and_one_part_alone_works(session, family):
    _, child = family
    found = one_trip(session, family=(FAMILY, {"family_id": -1}),
                     newest=(NEWEST, {"child_id": child.id, "newest": 1}))
    assert found["family"] == [] and [r.kind for r in found["newest"]] == ["diaper"]
    assert [r.id for r in one_trip(session, family=(FAMILY, {"family_id": child.family_id})
                                   )["family"]] == [child.family_id]


def test_a_parameter_two_parts_share_must_have_one_value(session, family):
    _, child = family
    mine = select(Entry.id).where(Entry.child_id == bindparam("child_id"))
    with pytest.raises(ValueError, match="child_id"):
        one_trip(session, newest=(NEWEST, {"child_id": child.id, "newest": 1}),
                 other=(mine, {"child_id": child.id + 1}))
    same = one_trip(session, newest=(NEWEST, {"child_id": child.id, "newest": 5}),
                    other=(mine, {"child_id": child.id}))
    assert sorted(r.id for r in same["other"]) == sorted(r.id for r in same["newest"])


def test_a_part_with_an_untyped_column_is_refused(session, family):
    """PostgreSQL resolves two untyped NULLs as text, which a third part's integers cannot
    match: a bare NULL column is refused on every database, before anything is sent."""
    _, child = family
    bare = select(Family.id, null().label("nothing")).where(Family.id == bindparam("family_id"))
    with pytest.raises(TypeError, match="nothing"):
        one_trip(session, bare=(bare, {"family_id": child.family_id}),
                 newest=(NEWEST, {"child_id": child.id, "newest": 1}))


def test_entities_load_as_they_do_alone_beside_the_parts(session, family, make_family):
    """The child home's one statement: the viewer's children with their memberships and
    families as the ORM loads them (the family then comes from the session, no query), and
    the plain parts' rows as one_trip gives them."""
    user, child = family
    twin = Child(family_id=child.family_id, name="Leo", birth_date=BORN)
    session.add(twin)
    make_family()  # another family's child is nobody's business here
    session.flush()
    statement, params = families.children_query(user)
    alone = [(c.id, c.name, c.birth_date, m.id, m.role, f.id, f.timezone)
             for c, m, f in session.execute(statement, params)]
    plain = one_trip(session, latest=entries.timeline_query(child.id, limit=3),
                     inbox=inbox.headlines_query(user, child.id, "en", now=NOW))
    session.expunge_all()  # loaded afresh from the one statement
    sent, stop = _statements(session)
    try:
        rows, found = one_trip_with_entities(
            session, families.children_query(user),
            latest=entries.timeline_query(child.id, limit=3),
            inbox=inbox.headlines_query(user, child.id, "en", now=NOW))
        assert [(c.id, c.name, c.birth_date, m.id, m.role, f.id, f.timezone)
                for c, m, f in rows] == alone
        assert [c.name for c, _, _ in rows] == ["Mia", "Leo"]
        assert all(isinstance(c, Child) and isinstance(m, Membership) and c.family is f
                   for c, m, f in rows)
        assert rows[0][0] is session.get(Child, child.id)  # in the identity map
    finally:
        stop()
    assert len(sent) == 1  # the family came from the session too
    assert {name: [tuple(r) for r in part] for name, part in found.items()} == {
        name: [tuple(r) for r in part] for name, part in plain.items()}
    got, membership, siblings = families.child_and_siblings_in(rows, child.id)
    assert (got.id, membership.user_id, [c.name for c in siblings]) == (
        child.id, user.id, ["Mia", "Leo"])
    # a UNION ALL promises no order: the children are sorted, whatever order rows come in
    assert [c.name for c in families.child_and_siblings_in(rows[::-1], twin.id)[2]] == [
        "Mia", "Leo"]


def test_the_entities_answer_nothing_for_a_child_the_viewer_may_not_see(session, family,
                                                                       make_family):
    """The parts ran, but the page never shows them: no entities row, NotFound; a viewer's
    write is refused."""
    user, child = family
    stranger, theirs = make_family()
    rows, found = one_trip_with_entities(
        session, families.access_query(stranger, child.id),
        latest=entries.timeline_query(child.id, limit=3))
    assert rows == [] and len(found["latest"]) == 3
    with pytest.raises(NotFound):
        families.child_access_in(rows)
    rows, _ = one_trip_with_entities(session, families.children_query(stranger),
                                     latest=entries.timeline_query(child.id, limit=1))
    assert [c.id for c, _, _ in rows] == [theirs.id]
    with pytest.raises(NotFound):
        families.child_and_siblings_in(rows, child.id)
    rows, _ = one_trip_with_entities(session, families.access_query(user, child.id),
                                     latest=entries.timeline_query(child.id, limit=1))
    assert families.child_access_in(rows)[0] is child
    session.get(Membership, families.child_access_in(rows)[1].id).role = "viewer"
    with pytest.raises(PermissionDenied):
        families.child_access_in(rows, write=True)


def test_psycopg_parses_the_child_page_statement_once(session, family):
    """The child home's one statement is longer than the 4 KB psycopg keeps parses of by
    default; db.make_engine raises the limit, so its second run reuses the parse."""
    if session.get_bind().dialect.driver != "psycopg":
        pytest.skip("psycopg's statement cache")
    from psycopg import _queries

    user, child = family
    sent, stop = _statements(session)

    def child_page() -> None:
        one_trip_with_entities(
            session, families.children_query(user),
            day=daily_summary.child_day_query(child.id, child.family.timezone, NOW),
            latest=entries.timeline_query(child.id, limit=3),
            inbox=inbox.headlines_query(user, child.id, "en", now=NOW))

    try:
        child_page()
        before = _queries._query2pg.cache_info()
        child_page()
        after = _queries._query2pg.cache_info()
    finally:
        stop()
    assert 4096 < len(sent[-1].encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


def test_a_combined_statement_keeps_its_compiled_form_itself(session, family):
    """The child page's statement is compiled once and then found in its own cache by the
    identity of its cache key (hashing that key cost 28 µs a visit), not in the engine's."""
    user, child = family
    parts = {"latest": entries.timeline_query(child.id, limit=3),
             "inbox": inbox.headlines_query(user, child.id, "en", now=NOW)}
    hits: list[object] = []
    connection = session.connection()
    dialect = connection.dialect

    def note(_conn, _cursor, _statement, _params, context, _many):  # type: ignore[no-untyped-def]
        hits.append(context.cache_hit)

    event.listen(connection, "before_cursor_execute", note)
    try:
        for _ in range(2):
            rows, found = one_trip_with_entities(session, families.children_query(user),
                                                 **parts)
            assert [row[0] for row in rows] == [child]
            assert len(found["latest"]) == 3
    finally:
        event.remove(connection, "before_cursor_execute", note)
    assert hits[-1] is dialect.CACHE_HIT
    statement, _count, _slots, cache = one_trip_module._with_entities(
        families.children_query(user)[0], tuple((k, v[0]) for k, v in parts.items()))
    assert len(cache) >= 1
    key, compiled = cache._entries[-1]
    assert key[0] is dialect and key[1] is statement._generate_cache_key().key
    assert compiled.string.startswith("SELECT")


def test_statement_cache_finds_by_identity_then_equality_and_keeps_a_few():
    cache = one_trip_module.StatementCache()
    big = (("select", 1), ("where", ("x", 2)))
    cache[("dialect-a", big, (), False, False)] = "compiled for a"
    assert cache.get(("dialect-a", big, (), False, False)) == "compiled for a"
    equal_copy = (("select", 1), ("where", ("x", 2)))
    assert cache.get(("dialect-a", equal_copy, (), False, False)) == "compiled for a"
    assert cache.get(("dialect-b", big, (), False, False)) is None
    assert cache.get(("dialect-a", big, ("col",), False, False), "none") == "none"
    for n in range(one_trip_module.StatementCache.SIZE + 3):
        cache[(f"dialect-{n}", big, (), False, False)] = n
    assert len(cache) == one_trip_module.StatementCache.SIZE
    assert cache.get(("dialect-a", big, (), False, False)) is None  # the oldest went first
    assert cache.get((f"dialect-{one_trip_module.StatementCache.SIZE + 2}", big, (), False,
                      False)) == one_trip_module.StatementCache.SIZE + 2
