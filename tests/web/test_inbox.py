"""The inbox: a new family's first stage arrives at once; read/unread; private."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from clock import utcnow
from content import packs, workflow
from diary import accounts, invitations
from diary import age as agemath
from diary.models import Membership
from diary.photos import PhotoStore
from journeys import inbox, ledger
from journeys.models import InboxMessage
from tests.conftest import PASSWORD
from tests.web.helpers import confirm_address
from tests.web.test_studio import make_item


@pytest.fixture()
def week_20_pack(session, tmp_path):
    folder = tmp_path / "pack"
    folder.mkdir()
    text = {"title": "Week 20: halfway", "summary": "Half.", "body": "## b\n\nx"}
    (folder / "articles.json").write_text(json.dumps([{
        "slug": "week-20", "window": {"unit": "pregnancy_week", "from": 20, "to": 20},
        "topics": ["prenatal-care"], "source": "WHO",
        "translations": {"en": text, "zh_CN": {**text, "title": "孕20周"}}}]))
    (folder / "reminders.json").write_text(json.dumps([{
        "slug": "scan", "category": "checkup", "source": "NHS",
        "window": {"unit": "pregnancy_week", "from": 18, "to": 21},
        "translations": {"en": {"title": "Book the anomaly scan", "body": "Call the clinic."},
                         "zh_CN": {"title": "预约大排畸", "body": "打电话预约。"}}}]))
    packs.import_pack(session, folder, None, PhotoStore(tmp_path / "img"))
    session.commit()


def _register(client, due: date):
    return client.post("/register", data={
        "display_name": "Lin", "email": "lin@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "timezone": "Asia/Shanghai", "locale": "en",
        "relationship": "mother", "child_name": "Bean", "status": "expecting",
        "due_date": due.isoformat(), "sex": "", "birth_weight_unit": "kg",
        "birth_length_unit": "cm", "birth_head_unit": "cm", "child_data_consent": "y"})


def test_new_family_gets_the_stage_at_once_and_can_read_it(client, week_20_pack, session,
                                                           mailer):
    today = agemath.local_today("Asia/Shanghai")
    _register(client, today + timedelta(days=140))
    confirm_address(client, mailer, "lin@example.com")
    child_page = client.get("/dashboard", follow_redirects=True).get_data(as_text=True)
    assert "In your inbox" in child_page and "Week 20: halfway" in child_page
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Book the anomaly scan" in inbox and "Call the clinic." in inbox
    assert 'nav-badge">2<' in inbox
    article = session.scalar(select(InboxMessage).where(InboxMessage.item_id.isnot(None))
                             .order_by(InboxMessage.id))
    opened = client.post(f"/inbox/{article.id}")
    assert opened.headers["Location"] == "/articles/week-20"
    session.expire_all()
    assert session.get(InboxMessage, article.id).read_at is not None
    client.post("/inbox/read-all")
    assert "nav-badge" not in client.get("/inbox").get_data(as_text=True)


def test_someone_elses_message_is_404(client, week_20_pack, session, make_family, login_as):
    today = agemath.local_today("Asia/Shanghai")
    _register(client, today + timedelta(days=140))
    message = session.scalar(select(InboxMessage))
    stranger, _ = make_family()
    login_as(stranger)
    assert client.post(f"/inbox/{message.id}").status_code == 404
    assert "Book the anomaly scan" not in client.get("/inbox").get_data(as_text=True)


# --- only what the person may still see ------------------------------------------------------

def _push(session, user, child_id, item=None, title=None, key=None):
    """One inbox message, as the tick writes it; returns its id."""
    ledger.push(session, [ledger.row(
        user_id=user.id, child_id=child_id, item=item, channel="inbox", occurrence="j1",
        item_key=key, **({"title": title, "body": "Body."} if title else {}))])
    session.commit()
    return session.scalar(select(InboxMessage.id).order_by(InboxMessage.id.desc()))


def _badge(html):
    found = re.search(r'nav-badge">(\d+)<', html)
    return int(found.group(1)) if found else 0


def _shown(client):
    html = client.get("/inbox").get_data(as_text=True)
    return _badge(html), {t for t in ("Sleep at 3 months", "Bath seat", "Happy birthday",
                                      "Tummy time") if t in html}


def test_archived_unpublished_or_deleted_content_leaves_the_inbox_and_the_badge(
        client, session, make_family, login_as):
    user, child = make_family()
    sleep = make_item(session, key="sleep-3m", title="Sleep at 3 months")
    seat = make_item(session, kind="product", key="BJ-SEAT", title="Bath seat", unit="week",
                     low=0, high=12, category="bath", price_minor=9900, currency="CNY")
    tummy = make_item(session, key="tummy-time", title="Tummy time")
    sleep_id = _push(session, user, child.id, item=sleep)
    _push(session, user, child.id, item=seat)
    _push(session, user, child.id, item=tummy)
    _push(session, user, child.id, title="Happy birthday", key="campaign:baby_birthday")
    login_as(user)
    assert _shown(client) == (4, {"Sleep at 3 months", "Bath seat", "Tummy time",
                                  "Happy birthday"})
    staff = accounts.create_staff(session, "reviewer@example.com", PASSWORD, "reviewer", "R")
    workflow.archive(sleep, staff, review_required=True)  # archived after delivery
    workflow.archive(seat, staff, review_required=True)
    workflow.restore(seat, staff)  # back to a draft: still not published
    session.delete(tummy)  # deleted: the message's item_id is set to NULL
    session.commit()
    assert _shown(client) == (1, {"Happy birthday"})
    child_page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Sleep at 3 months" not in child_page and "Bath seat" not in child_page
    assert _badge(child_page) == 1
    # a hidden message cannot be opened (nor marked read) by its id either
    assert client.post(f"/inbox/{sleep_id}").status_code == 404
    client.post("/inbox/read-all")
    assert _shown(client) == (0, {"Happy birthday"})
    session.expire_all()
    assert session.get(InboxMessage, sleep_id).read_at is None  # hidden: left as it was
    # published again: the message comes back as it was
    workflow.restore(sleep, staff)
    workflow.publish_reviewed(session, sleep)
    session.commit()
    assert _shown(client) == (1, {"Sleep at 3 months", "Happy birthday"})
    # scheduled for later (unpublished until then) hides it again
    sleep.publish_at = utcnow() + timedelta(days=3)
    session.commit()
    assert _shown(client) == (0, {"Happy birthday"})


def test_leaving_a_family_takes_its_childrens_messages_away(client, session, make_family,
                                                            login_as):
    owner, child = make_family()
    other_owner, other_child = make_family(name="Kai")
    helper, own_child = make_family(name="Own")
    sleep = make_item(session, key="sleep-3m", title="Sleep at 3 months")
    tummy = make_item(session, key="tummy-time", title="Tummy time")
    for family_child in (child, other_child):
        session.add(Membership(family_id=family_child.family_id, user_id=helper.id,
                               role="editor", relationship_to_child="other"))
    session.commit()
    about_mia = _push(session, helper, child.id, item=sleep)
    _push(session, helper, child.id, title="Happy birthday", key="campaign:baby_birthday")
    _push(session, helper, other_child.id, item=tummy)  # a family she stays in
    login_as(helper)
    assert _shown(client) == (3, {"Sleep at 3 months", "Tummy time", "Happy birthday"})
    membership = session.scalar(select(Membership).where(
        Membership.user_id == helper.id, Membership.family_id == child.family_id))
    invitations.remove_member(session, membership)
    session.commit()
    assert _shown(client) == (1, {"Tummy time"})
    assert client.post(f"/inbox/{about_mia}").status_code == 404
    # the child page of the family she is still in shows its own messages only
    page = client.get(f"/children/{other_child.id}").get_data(as_text=True)
    assert "Tummy time" in page and "Sleep at 3 months" not in page
    # the family's owner still sees her own copies
    _push(session, owner, child.id, item=sleep)
    login_as(owner)
    assert _shown(client) == (1, {"Sleep at 3 months"})


def test_a_deleted_childs_messages_are_gone(client, session, make_family, login_as):
    user, child = make_family()
    _, second = make_family()  # another family: moved into this one below
    second.family_id = child.family_id
    session.commit()
    _push(session, user, second.id, item=make_item(session, key="sleep-3m",
                                                   title="Sleep at 3 months"))
    _push(session, user, child.id, item=make_item(session, key="tummy-time",
                                                  title="Tummy time"))
    login_as(user)
    assert _shown(client) == (2, {"Sleep at 3 months", "Tummy time"})
    assert client.post(f"/children/{second.id}/delete", data={}).status_code == 302
    assert _shown(client) == (1, {"Tummy time"})


def test_unread_count_and_messages_agree(session, make_family):
    """The badge counts exactly the unread messages the list shows."""
    user, child = make_family()
    items = [make_item(session, key=f"a-{n}", title=f"A {n}") for n in range(4)]
    for item in items:
        _push(session, user, child.id, item=item)
    items[1].status = "archived"
    items[2].publish_at = utcnow() + timedelta(hours=1)
    session.commit()
    shown = inbox.messages(session, user)
    assert [e.item.key for e in shown] == ["a-3", "a-0"]
    assert inbox.unread_count(session, user) == 2
    assert inbox.unread_count(session, user, now=utcnow() + timedelta(hours=2)) == 3
    assert inbox.mark_all_read(session, user) == 2
    assert inbox.unread_count(session, user, now=utcnow() + timedelta(hours=2)) == 1


def test_a_later_page_with_nothing_older_says_so(client, session, make_family, login_as):
    """An "Older messages" link can lead past the last message (the page before had exactly
    thirty): that page says there is nothing older and leads back, instead of welcoming a
    new family as if the inbox were empty."""
    user, child = make_family()
    first = _push(session, user, child.id, title="The only one", key="only")
    login_as(user)
    later = client.get(f"/inbox?before={first}").get_data(as_text=True)
    assert "No older messages." in later and 'href="/inbox">Back to the newest' in later
    assert "Nothing here yet" not in later and "The only one" not in later
    newest = client.get("/inbox").get_data(as_text=True)
    assert "The only one" in newest and "No older messages." not in newest
    assert client.head(f"/inbox?before={first}").status_code == 200
    # Hostile or out-of-range cursors are no cursor: the first page, never an error.
    for bad in ("-1", "0", "abc", "1e3", "9" * 40, "１"):
        page = client.get(f"/inbox?before={bad}")
        assert page.status_code == 200, bad
        assert "The only one" in page.get_data(as_text=True), bad
    assert client.get("/inbox?before=%00").status_code == 400  # the site-wide text check
    empty, empty_child = make_family(email="empty@example.com")
    login_as(empty)
    page = client.get("/inbox").get_data(as_text=True)
    assert "Nothing here yet" in page and "No older messages." not in page
    # Another family's message id as the cursor shows none of their messages.
    theirs = client.get(f"/inbox?before={first + 1}").get_data(as_text=True)
    assert "The only one" not in theirs and "No older messages." in theirs
