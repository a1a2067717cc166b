"""The child home's inbox list (`inbox.headlines_and_unread`) and its one-query child access
(`families.child_and_siblings`) show what the slower, object-loading calls showed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from content import authoring, library, packs
from content.models import ContentItem, Status
from db import core_rows
from diary import families
from diary.errors import NotFound, PermissionDenied
from diary.models import Child, Membership
from diary.photos import PhotoStore
from journeys import inbox, ledger
from tests.content.test_content_core import _article, _pack


@pytest.fixture()
def items(session, tmp_path):  # type: ignore[no-untyped-def]
    articles = [_article(key, "week", 0, 12) for key in ("a", "b", "gone", "zh-only")]
    packs.import_pack(session, _pack(tmp_path, articles), None, PhotoStore(tmp_path / "i"))
    found = {key: authoring.find(session, "article", key) for key in
             ("a", "b", "gone", "zh-only")}
    found["zh-only"].translations = [t for t in found["zh-only"].translations
                                     if t.locale == "zh_CN"]
    session.flush()
    return found


def _push(session, user, child, item, key, **payload):  # type: ignore[no-untyped-def]
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=item,
                                     channel="inbox", item_key=key, occurrence="1",
                                     **payload)])


def _headlines(session, user, child_id, locale, limit=3):  # type: ignore[no-untyped-def]
    return inbox.headlines_and_unread(session, user, child_id, locale, limit=limit)[0]


def _old_way(session, user, child, locale):  # type: ignore[no-untyped-def]
    return [(e.message.id, e.message.read_at is not None, e.item.text(locale).title)
            for e in inbox.messages(session, user, limit=3, child_id=child.id) if e.item]


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_headlines_are_the_newest_item_messages_in_the_readers_language(
        session, make_family, items, locale):
    user, child = make_family()
    other, other_child = make_family()
    _push(session, user, child, items["a"], "m1")
    _push(session, user, child, items["zh-only"], "m2")
    _push(session, user, child, items["gone"], "m3")
    _push(session, user, child, items["b"], "m4")
    _push(session, other, other_child, items["a"], "theirs")
    session.flush()
    first = inbox.messages(session, user, limit=10, child_id=child.id)[-1].message
    inbox.mark_read(session, user, first.id)
    items["gone"].status = Status.ARCHIVED.value
    session.flush()
    shown = _headlines(session, user, child.id, locale, limit=3)
    assert [(h.message_id, h.read, h.title) for h in shown] == _old_way(session, user, child,
                                                                       locale)
    titles = [h.title for h in shown]
    assert titles == (["About b", "关于zh-only", "About a"] if locale == "en"
                      else ["关于b", "关于zh-only", "关于a"])
    assert [h.read for h in shown] == [False, False, True]
    assert _headlines(session, user, other_child.id, locale) == []  # not their child
    assert [h.title for h in _headlines(session, other, other_child.id, "en")] \
        == ["About a"]
    # with the header's badge, in one query: the same list and unread_count's number (m2
    # and m4 unread and shown; m3's item is archived, so it is neither shown nor counted)
    assert inbox.headlines_and_unread(session, user, child.id, locale, limit=3) == (
        shown, inbox.unread_count(session, user)) and inbox.unread_count(session, user) == 2
    assert inbox.headlines_and_unread(session, user, other_child.id, locale) == ([], 2)
    assert inbox.headlines_and_unread(session, other, other_child.id, "en")[1] == 1
    # inside db.one_trip's UNION ALL the rows' order is not promised: newest first anyway
    rows = list(core_rows(session, *inbox.headlines_query(user, child.id, locale, limit=3)))
    assert inbox.headlines_of(session, rows[::-1]) == inbox.headlines_of(session, rows) \
        == (shown, 2)


def test_text_messages_are_left_out_after_the_limit_as_before(session, make_family, items):
    user, child = make_family()
    _push(session, user, child, items["a"], "m1")
    _push(session, user, child, None, "hello", title="Welcome!", body="Hi")
    session.flush()
    assert [h.title for h in _headlines(session, user, child.id, "en", limit=1)] == []
    assert [h.title for h in _headlines(session, user, child.id, "en", limit=2)] \
        == ["About a"] == [t for _, _, t in _old_way(session, user, child, "en")]


def test_child_and_siblings_is_child_access_and_children_of_in_one(session, make_family):
    user, child = make_family()
    grandma, theirs = make_family()
    second = families.add_child(session, child.family, families.ChildDetails(
        name="Leo", birth_date=child.birth_date, sex="male"))
    session.add(Membership(family_id=child.family_id, user_id=grandma.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.flush()
    for who, kid in ((user, child), (user, second), (grandma, child), (grandma, theirs)):
        got, membership, siblings = families.child_and_siblings(session, who, kid.id)
        assert (got, membership) == families.child_access(session, who, kid.id)
        assert siblings == families.children_of(session, who)
    assert [c.name for c in families.children_of(session, grandma)] == ["Mia", "Mia", "Leo"]
    with pytest.raises(NotFound):
        families.child_and_siblings(session, user, theirs.id)  # not the user's family
    with pytest.raises(NotFound):
        families.child_and_siblings(session, user, 10**9)
    with pytest.raises(PermissionDenied):
        families.child_and_siblings(session, grandma, child.id, write=True)
    assert isinstance(families.child_and_siblings(session, user, child.id, write=True)[0],
                      Child)


def test_headlines_read_the_content_generation_for_the_rest_of_the_transaction(
        session, make_family, items):
    """The child home's kept "this week" and suggestions are checked against the content
    generation; the headlines' statement carries it, so asking for it again sends nothing,
    until a flush (which may change content) makes it read again."""
    user, child = make_family()
    newest = session.scalar(select(func.max(ContentItem.updated_at)))
    assert newest is not None
    connection = session.connection()
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", count)
    try:
        inbox.headlines_and_unread(session, user, child.id, "en")
        assert len(sent) == 1
        assert library.content_generation(session) == newest
        assert len(sent) == 1  # no statement of its own
        items["a"].updated_at = newest + timedelta(minutes=5)  # an edit, flushed
        session.flush()
        sent.clear()
        assert library.content_generation(session) == newest + timedelta(minutes=5)
        assert len(sent) == 1  # read again after the flush
    finally:
        event.remove(connection, "before_cursor_execute", count)
