"""The daily tools' pages: timers across devices and caregivers, the child page's status line,
the summary page, reminders ticked off and the vaccination record."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import event, func, select

from diary import entries, families, invitations, timers, vaccinations
from diary.entry_kinds import EntryInput
from diary.models import Entry, Timer, Vaccination
from tests.conftest import PASSWORD
from tests.web.test_studio import make_item

#: 12:00 in Shanghai on 23 November 2026.
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
BORN = date(2026, 9, 1)

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def join(session, owner, child, user, role):
    inv = invitations.invite(session, child.family, owner, user.email, role, "father")
    invitations.accept(session, inv, user)
    session.commit()


@pytest.fixture()
def family(session, make_family):
    """An owner, an editor (the other parent) and a viewer (a grandparent) of one baby."""
    owner, child = make_family(birth_date=BORN)
    editor, _ = make_family()
    viewer, _ = make_family()
    join(session, owner, child, editor, "editor")
    join(session, owner, child, viewer, "viewer")
    return owner, editor, viewer, child


def entry_count(session, child) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Entry).where(
        Entry.child_id == child.id))


def running(session, child) -> dict[str, Timer]:
    session.expire_all()
    return timers.running(session, child)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_a_toddlers_page_offers_no_tummy_time_but_shows_one_running(client, session,
                                                                   make_family, login_as):
    """Tummy time is for babies not yet on the move: a two-year-old's page has the feed and
    sleep buttons only; a tummy timer started anyway (the API) still shows, with Stop."""
    owner, child = make_family(birth_date=date(2024, 11, 1))
    login_as(owner)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="start-sleep"' in page and 'id="start-feed-left"' in page
    assert 'id="start-tummy"' not in page
    timer = timers.start(session, child, owner, "tummy", now=NOW - timedelta(minutes=3))
    session.commit()
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'data-kind="tummy"' in page and f"/timers/{timer.id}/stop" in page
    baby, little = make_family(birth_date=BORN)  # 12 weeks old: offered
    login_as(baby)
    assert 'id="start-tummy"' in client.get(f"/children/{little.id}").get_data(as_text=True)


def test_the_dashboard_shows_each_childs_day_at_a_glance(client, session, make_family,
                                                         login_as):
    """Twins' parents see who ate last and who sleeps without opening each page; a child
    with nothing recent (a feed a week ago, no nappies today) shows no line at all."""
    owner, amy = make_family(name="Amy", birth_date=BORN)
    ben = families.add_child(session, amy.family, families.ChildDetails(
        name="Ben", birth_date=BORN, sex="male"))
    cat = families.add_child(session, amy.family, families.ChildDetails(
        name="Cat", birth_date=BORN, sex="female"))
    entries.create_entry(session, amy, owner, EntryInput(
        "feeding", NOW - timedelta(minutes=40), data={"method": "breast_right"}))
    entries.create_entry(session, amy, owner, EntryInput(
        "diaper", NOW - timedelta(minutes=30), data={"wet": True, "dirty": True}))
    timers.start(session, ben, owner, "sleep", now=NOW - timedelta(minutes=75))
    entries.create_entry(session, cat, owner, EntryInput(
        "feeding", NOW - timedelta(days=7), data={"method": "bottle_formula",
                                                  "amount_ml": 90}))
    other, stranger = make_family(name="Stranger")
    timers.start(session, stranger, other, "sleep", now=NOW - timedelta(minutes=5))
    session.commit()
    login_as(owner)
    page = client.get("/dashboard").get_data(as_text=True)
    cards = dashboard_cards(page, amy, ben, cat)
    assert "Last feed 40 min ago (right)" in text_of(cards["Amy"])
    assert "1 nappy today (1 wet, 1 dirty)" in text_of(cards["Amy"])
    assert "Asleep for 1 h 15 min" in text_of(cards["Ben"])
    assert "Last feed" not in text_of(cards["Ben"])
    assert "child-glance" not in cards["Cat"]
    assert "Stranger" not in page
    assert "Asleep for 5 min" not in text_of(page)  # another family's baby, asleep


def dashboard_cards(page: str, *children) -> dict[str, str]:
    """Each child's card on the dashboard, by name (the card's markup)."""
    cards = page.split('class="card card-body h-100')[1:]
    return {child.name: next(card for card in cards if f'id="child-{child.id}"' in card)
            for child in children}


def test_the_dashboard_shows_each_books_newest_line_and_this_weeks_reading(
        client, session, make_family, login_as):
    """Each card says what was added last and when ("3 hours ago"), or that the book is
    empty; "Add to the book" only where the parent may write (a grandparent's view of
    another family has none); this week's articles once per stage, naming the children at
    it; another family's entries and stages never show."""
    owner, amy = make_family(name="Amy", birth_date=BORN)  # 11 weeks old
    ben = families.add_child(session, amy.family, families.ChildDetails(
        name="Ben", birth_date=BORN, sex="male"))
    entries.create_entry(session, amy, owner, EntryInput(
        "note", NOW - timedelta(hours=3), title="First bath at home"))
    entries.create_entry(session, amy, owner, EntryInput(
        "note", NOW - timedelta(days=3), title="An older note"))
    entries.create_entry(session, ben, owner, EntryInput(
        "diaper", NOW - timedelta(days=2), data={"wet": True}))
    granny_of, cousin = make_family(name="Cousin", birth_date=date(2025, 11, 1))  # 12 months
    join(session, granny_of, cousin, owner, "viewer")
    stranger, other = make_family(name="Other", birth_date=date(2024, 11, 1))
    entries.create_entry(session, other, stranger, EntryInput(
        "note", NOW - timedelta(minutes=5), title="A stranger's note"))
    make_item(session, key="week-11", title="Eleven weeks", unit="week", low=11, high=11)
    make_item(session, key="month-12", title="One year", unit="month", low=12, high=12)
    make_item(session, key="month-24", title="Two years", unit="month", low=24, high=24)
    session.commit()
    login_as(owner)

    page = client.get("/dashboard").get_data(as_text=True)

    cards = dashboard_cards(page, amy, ben, cousin)
    assert "Latest in the book: 📝 Note First bath at home · 3 hours ago" in text_of(
        cards["Amy"])
    assert "Latest in the book: 🧷 Nappy wet · 2 days ago" in text_of(cards["Ben"])
    assert "Nothing in the book yet." in text_of(cards["Cousin"])
    assert f"/children/{amy.id}/entries/new" in cards["Amy"]
    assert f"/children/{cousin.id}/entries/new" not in page  # a viewer there
    assert f"/children/{cousin.id}/timeline" in cards["Cousin"]
    reading = text_of(page.split('id="this-week"')[1])
    assert "Baby week 11 · Amy and Ben Eleven weeks" in reading
    assert "Baby, month 12 · Cousin One year" in reading
    assert reading.count("Eleven weeks") == 1 and "Two years" not in reading
    assert "A stranger's note" not in page and "Other" not in text_of(page)

    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get("/dashboard").get_data(as_text=True)
    assert "最新记录： 📝 随记 First bath at home · 3小时前" in text_of(
        dashboard_cards(page, amy)["Amy"])
    assert "Amy和Ben" in text_of(page.split('id="this-week"')[1])


def test_a_family_whose_day_is_still_before_the_birth_sees_its_pages(client, session,
                                                                     make_family, login_as):
    """Born today in Shanghai; the family then moves its zone to Pago Pago, where it is
    still yesterday: the child page offers every timer (no age yet), nothing fails."""
    owner, child = make_family(birth_date=date(2026, 11, 23))
    child.family.timezone = "Pacific/Pago_Pago"
    session.commit()
    login_as(owner)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="start-tummy"' in page and "Before birth" in page
    assert client.get(f"/children/{child.id}/days").status_code == 404  # no day of its own yet


def test_a_feed_started_on_one_device_is_stopped_on_another(client, session, family,
                                                            login_as, clock_at):
    owner, editor, _, child = family
    login_as(owner)
    response = client.post(f"/children/{child.id}/timers", data={"kind": "feed",
                                                                 "side": "left"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/children/{child.id}#today"
    timer = running(session, child)["feed"]
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'data-kind="feed"' in page and "Feed (left)" in text_of(page)
    assert 'id="start-feed-left"' not in page  # a feed runs: no second one offered
    # 12 minutes later the other parent, on their phone, sees it and stops it
    clock_at(timer.started_at + timedelta(minutes=12))
    login_as(editor)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'data-kind="feed"' in page, text_of(page)[:3000]
    assert ">12 min<" in page, page[page.index('data-kind="feed"'):][:600]
    response = client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                           follow_redirects=True)
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "Saved to Mia's book." in page
    assert "Last feed 12 min ago (left)" in page
    session.expire_all()
    assert session.execute(select(Entry.kind, Entry.occurred_at, Entry.data, Entry.author_id)
                           .where(Entry.child_id == child.id)).all() == [
        ("feeding", timer.started_at, {"method": "breast_left", "duration_min": 12},
         editor.id)]
    # the first device, not reloaded, presses Stop too: told, and nothing more is written
    login_as(owner)
    response = client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                           follow_redirects=True)
    assert "This timer was already stopped." in response.get_data(as_text=True)
    assert entry_count(session, child) == 1


def test_the_child_page_says_how_the_day_is_going(client, session, family, login_as):
    owner, _, viewer, child = family
    for minutes_ago, kind, data in (
            (130, "feeding", {"method": "breast_left", "duration_min": 20}),
            (200, "feeding", {"method": "bottle_formula", "amount_ml": 90}),
            (60, "diaper", {"wet": True}), (120, "diaper", {"wet": True}),
            (180, "diaper", {"wet": True}), (240, "diaper", {"dirty": True}),
            (300, "diaper", {"dirty": True}),
            (13 * 60, "diaper", {"wet": True})):  # 23:00 yesterday in Shanghai
        entries.create_entry(session, child, owner, EntryInput(
            kind, NOW - timedelta(minutes=minutes_ago), data=data))
    timers.start(session, child, owner, "sleep", now=NOW - timedelta(minutes=45))
    session.commit()
    for who in (owner, viewer):
        login_as(who)
        page = client.get(f"/children/{child.id}").get_data(as_text=True)
        status = text_of(page[page.index('id="daily-status"'):page.index("</ul>", page.index(
            'id="daily-status"'))])
        assert "Last feed 2 h 10 min ago (left)" in status
        assert "Asleep for 45 min" in status
        assert "5 nappies today (3 wet, 2 dirty)" in status


def test_a_viewer_in_another_time_zone_sees_the_familys_day(client, session, family,
                                                              make_family, login_as):
    """The child page asks for the day in the viewer's zone, in the statement that finds the
    child (once its caches are warm, the page's one read beside the sign-in's), and again
    alone when the family keeps another: a grandmother in New York (23:00 on the 22nd there) counts Shanghai's nappies,
    not her own day's six."""
    owner, _, _, child = family
    far, _ = make_family(tz="America/New_York")
    join(session, owner, child, far, "viewer")
    for minutes_ago, data in ((60, {"wet": True}), (120, {"wet": True}), (180, {"wet": True}),
                              (240, {"dirty": True}), (300, {"dirty": True}),
                              (13 * 60, {"wet": True})):  # 23:00 yesterday in Shanghai
        entries.create_entry(session, child, owner, EntryInput(
            "diaper", NOW - timedelta(minutes=minutes_ago), data=data))
    session.commit()
    sent: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: sent.append(statement))
    pages, reads = {}, {}
    for who in (owner, far):
        login_as(who)
        client.get(f"/children/{child.id}")  # signed in, seen, the page's caches warm
        sent.clear()
        pages[who] = text_of(client.get(f"/children/{child.id}").get_data(as_text=True))
        reads[who] = len([st for st in sent if st.lstrip().upper().startswith("SELECT")])
    for page in pages.values():
        assert "5 nappies today (3 wet, 2 dirty)" in page
    assert "6 nappies today" not in pages[far]
    assert reads == {owner: 2, far: 3}


def test_the_status_line_in_chinese(client, session, family, login_as):
    owner, _, _, child = family
    entries.create_entry(session, child, owner, EntryInput(
        "feeding", NOW - timedelta(minutes=130), data={"method": "breast_right"}))
    session.commit()
    login_as(owner)
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = text_of(client.get(f"/children/{child.id}").get_data(as_text=True))
    assert "上次喂奶：2 小时 10 分钟前（右侧）" in page


def test_viewers_see_the_timers_but_cannot_start_stop_or_discard(client, session, family,
                                                                  login_as):
    owner, _, viewer, child = family
    timer = timers.start(session, child, owner, "sleep", now=NOW - timedelta(minutes=5))
    session.commit()
    login_as(viewer)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'data-kind="sleep"' in page
    assert '/timers"' not in page and "/stop" not in page and "/discard" not in page
    assert client.post(f"/children/{child.id}/timers",
                       data={"kind": "feed", "side": "left"}).status_code == 403
    assert client.post(f"/children/{child.id}/timers/{timer.id}/stop").status_code == 403
    assert client.post(f"/children/{child.id}/timers/{timer.id}/discard").status_code == 403
    assert set(running(session, child)) == {"sleep"}
    assert entry_count(session, child) == 0


def test_another_familys_child_and_timers_are_not_found(client, session, family, make_family,
                                                        login_as):
    owner, _, _, child = family
    stranger, their_child = make_family(birth_date=BORN)
    theirs = timers.start(session, their_child, stranger, "feed", "right", now=NOW)
    mine = timers.start(session, child, owner, "feed", "left", now=NOW)
    session.commit()
    login_as(owner)
    for url in (f"/children/{their_child.id}/timers",
                f"/children/{their_child.id}/timers/{theirs.id}/stop",
                f"/children/{their_child.id}/timers/{theirs.id}/discard",
                f"/children/{their_child.id}/timers/{mine.id}/stop",
                f"/children/{child.id}/timers/{theirs.id}/stop",  # my child, their timer
                f"/children/{child.id}/timers/{theirs.id}/discard",
                f"/children/{their_child.id}/reminders/hep-b-2/done",
                f"/children/{their_child.id}/vaccinations",
                f"/children/{their_child.id}/vaccinations/1/delete",
                f"/children/{their_child.id}/vaccinations/1/edit",
                f"/children/{child.id}/timers/99999999/stop"):
        assert client.post(url, data={"kind": "sleep", "given_on": "2026-11-01",
                                      "name": "x", "category": "vaccination"}
                           ).status_code == 404, url
    for url in (f"/children/{their_child.id}/days",
                f"/children/{their_child.id}/vaccinations",
                f"/children/{their_child.id}/vaccinations/1/edit",
                f"/children/{their_child.id}/vaccinations.csv"):
        assert client.get(url).status_code == 404, url
    assert set(running(session, their_child)) == {"feed"}
    assert entry_count(session, their_child) == 0
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 0


@pytest.mark.parametrize(("form", "message"), [
    ({"kind": "feed", "side": "middle"}, "Please choose the left or the right side."),
    ({"kind": "feed"}, "Please choose the left or the right side."),
    ({"kind": "bath"}, "Unknown kind of timer."),
    ({"kind": "<script>x</script>"}, "Unknown kind of timer."),
    ({}, "Unknown kind of timer.")])
def test_hostile_timer_starts_are_refused(client, session, family, login_as, form, message):
    owner, _, _, child = family
    login_as(owner)
    response = client.post(f"/children/{child.id}/timers", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert "<script>x" not in response.get_data(as_text=True)
    assert running(session, child) == {}


@pytest.mark.parametrize(("minutes", "message"), [
    ("-5", "Enter between 1 and 30 minutes."), ("0", "Enter between 1 and 30 minutes."),
    ("31", "Enter between 1 and 30 minutes."),
    ("99999999999999999999", "Enter between 1 and 30 minutes."),
    ("abc", "The minutes must be a whole number."),
    ("1e3", "The minutes must be a whole number.")])
def test_hostile_durations_are_refused_and_the_timer_keeps_running(
        client, session, family, login_as, minutes, message):
    owner, _, _, child = family
    timer = timers.start(session, child, owner, "feed", "left",
                         now=NOW - timedelta(minutes=30))
    session.commit()
    login_as(owner)
    response = client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                           data={"minutes": minutes}, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert "feed" in running(session, child)
    assert entry_count(session, child) == 0
    client.post(f"/children/{child.id}/timers/{timer.id}/stop", data={"minutes": "18"})
    session.expire_all()
    assert session.scalars(select(Entry.data).where(Entry.child_id == child.id)).all() == [
        {"method": "breast_left", "duration_min": 18}]


def test_a_feed_left_running_for_hours_is_not_saved_as_it_is(client, session, family,
                                                           login_as):
    owner, _, _, child = family
    timer = timers.start(session, child, owner, "feed", "right", now=NOW - timedelta(hours=4))
    session.commit()
    login_as(owner)
    page = client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                       follow_redirects=True).get_data(as_text=True)
    assert "The timer ran for 240 minutes, longer than that can be" in page
    assert entry_count(session, child) == 0
    page = client.post(f"/children/{child.id}/timers/{timer.id}/discard",
                       follow_redirects=True).get_data(as_text=True)
    assert "The timer is discarded." in page
    assert running(session, child) == {} and entry_count(session, child) == 0


@pytest.mark.parametrize("url", ["/children/{c}/timers", "/children/{c}/timers/{t}/stop",
                                 "/children/{c}/timers/{t}/discard",
                                 "/children/{c}/reminders/hep-b-2/done",
                                 "/children/{c}/vaccinations/{v}/delete"])
def test_post_only_routes_refuse_get_and_head(client, session, family, login_as, url):
    owner, _, _, child = family
    timer = timers.start(session, child, owner, "sleep", now=NOW)
    record = vaccinations.add(session, child, owner, "vaccination", "BCG", BORN)
    session.commit()
    login_as(owner)
    url = url.format(c=child.id, t=timer.id, v=record.id)
    assert client.get(url).status_code == 405
    assert client.head(url).status_code == 405
    assert set(running(session, child)) == {"sleep"}
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 1


@pytest.fixture()
def reminder(session):
    return make_item(session, "reminder", "hep-b-2", "Hepatitis B, second dose", "week", 10, 12,
                     category="vaccination")


def test_a_reminder_is_ticked_off_with_the_date_given(client, session, family, login_as,
                                                      reminder):
    owner, _, viewer, child = family
    login_as(owner)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    form = page[page.index('id="reminder-hep-b-2"'):]
    form = form[:form.index("</li>")]
    assert 'value="2026-11-23"' in form and 'max="2026-11-23"' in form
    assert 'min="2026-09-01"' in form
    for bad, message in (("2026-11-24", "The date cannot be in the future."),
                         ("2026-08-31", "The date cannot be before the birth date."),
                         ("", "Please enter the date."), ("yesterday", "Please enter the date.")):
        response = client.post(f"/children/{child.id}/reminders/hep-b-2/done",
                               data={"given_on": bad}, follow_redirects=True)
        assert message in response.get_data(as_text=True), bad
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 0
    response = client.post(f"/children/{child.id}/reminders/hep-b-2/done",
                           data={"given_on": "2026-11-20"}, follow_redirects=True)
    page = text_of(response.get_data(as_text=True))
    assert "Hepatitis B, second dose ✓ done on Nov 20, 2026" in page
    assert client.post(f"/children/{child.id}/reminders/no-such-thing/done",
                       data={"given_on": "2026-11-20"}).status_code == 404
    record = text_of(client.get(f"/children/{child.id}/vaccinations").get_data(as_text=True))
    assert "Nov 20, 2026 Hepatitis B, second dose Vaccination" in record
    login_as(viewer)
    assert client.post(f"/children/{child.id}/reminders/hep-b-2/done",
                       data={"given_on": "2026-11-21"}).status_code == 403
    assert client.get(f"/children/{child.id}/vaccinations").status_code == 200
    csv = client.get(f"/children/{child.id}/vaccinations.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines() == [
        "\ufeffchild,category,name,reminder,given_on,note",
        "Mia,vaccination,\"Hepatitis B, second dose\",hep-b-2,2026-11-20,"]


def test_a_tip_reminder_cannot_be_ticked(client, session, family, login_as):
    owner, _, _, child = family
    make_item(session, "reminder", "tummy-tip", "Try tummy time", "week", 10, 12, category="tip")
    login_as(owner)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Try tummy time" in page and "/reminders/tummy-tip/done" not in page
    assert client.post(f"/children/{child.id}/reminders/tummy-tip/done",
                       data={"given_on": "2026-11-20"}).status_code == 404


def test_vaccinations_are_entered_by_hand_and_removed(client, session, family, login_as):
    owner, _, viewer, child = family
    login_as(owner)
    url = f"/children/{child.id}/vaccinations"
    response = client.post(url, data={"category": "vaccination", "name": "",
                                      "given_on": "2026-11-02"})
    assert response.status_code == 400
    response = client.post(url, data={"category": "surgery", "name": "BCG",
                                      "given_on": "2026-11-02"})
    assert response.status_code == 400
    response = client.post(url, data={"category": "vaccination", "name": "BCG",
                                      "given_on": "2027-01-01"})
    assert response.status_code == 400
    assert "The date cannot be in the future." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 0
    response = client.post(url, data={"category": "vaccination", "name": "<b>BCG</b>",
                                      "given_on": "2026-11-02", "note": "left arm"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "&lt;b&gt;BCG&lt;/b&gt;" in page and "Vaccination · left arm" in page
    record = session.scalars(select(Vaccination)).one()
    login_as(viewer)
    assert client.post(url, data={"category": "vaccination", "name": "X",
                                  "given_on": "2026-11-02"}).status_code == 403
    assert client.post(f"{url}/{record.id}/delete").status_code == 403
    login_as(owner)
    assert client.post(f"{url}/{record.id}/delete").status_code == 302
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 0


def test_a_row_of_the_record_is_corrected(client, session, family, login_as, reminder):
    """A wrong date or a missing note is corrected in place: a row typed by hand changes
    kind, name, date and note; a ticked reminder keeps its kind and, with a blank name, the
    reminder's title. A refused correction (a future date, no name, a name too long) changes
    nothing; viewers may read the record but not correct it."""
    owner, editor, viewer, child = family
    typed = vaccinations.add(session, child, owner, "vaccination", "BCG", date(2026, 9, 2))
    ticked = vaccinations.tick_reminder(session, child, owner, "hep-b-2", "vaccination",
                                        date(2026, 11, 20))
    session.commit()
    url = f"/children/{child.id}/vaccinations"
    login_as(editor)
    page = client.get(f"{url}/{typed.id}/edit").get_data(as_text=True)
    assert 'value="BCG"' in page and 'value="2026-09-02"' in page
    for bad, message in (({"name": ""}, "Please enter the name."),
                         ({"given_on": "2026-11-24"}, "The date cannot be in the future."),
                         ({"given_on": "2026-08-31"},
                          "The date cannot be before the birth date."),
                         ({"name": "x" * 121}, "Field cannot be longer than 120 characters."),
                         ({"category": "surgery"}, "Not a valid choice.")):
        data = {"category": "vaccination", "name": "BCG", "given_on": "2026-09-03",
                "note": "changed", **bad}
        response = client.post(f"{url}/{typed.id}/edit", data=data)
        assert response.status_code == 400, bad
        assert message in text_of(response.get_data(as_text=True)), bad
    session.expire_all()
    assert (typed.name, typed.given_on, typed.note) == ("BCG", date(2026, 9, 2), "")
    response = client.post(f"{url}/{typed.id}/edit", data={
        "category": "checkup", "name": "  Newborn hearing check ", "given_on": "2026-09-03",
        "note": "both ears clear"})
    assert response.status_code == 302 and response.headers["Location"] == url
    session.expire_all()
    assert (typed.category, typed.name, typed.given_on, typed.note) == (
        "checkup", "Newborn hearing check", date(2026, 9, 3), "both ears clear")

    page = client.get(f"{url}/{ticked.id}/edit").get_data(as_text=True)
    assert 'name="category"' not in page and 'placeholder="Hepatitis B, second dose"' in page
    client.post(f"{url}/{ticked.id}/edit", data={"category": "checkup", "name": "",
                                                 "given_on": "2026-11-19", "note": "clinic"})
    session.expire_all()
    assert (ticked.category, ticked.name, ticked.reminder_key, ticked.given_on) == (
        "vaccination", "", "hep-b-2", date(2026, 11, 19))
    record = text_of(client.get(url).get_data(as_text=True))
    assert "Nov 19, 2026 Hepatitis B, second dose Vaccination · clinic" in record
    assert "Sep 3, 2026 Newborn hearing check Check-up · both ears clear" in record

    login_as(viewer)
    assert f"{url}/{typed.id}/edit" not in client.get(url).get_data(as_text=True)
    assert client.get(f"{url}/{typed.id}/edit").status_code == 403
    assert client.post(f"{url}/{typed.id}/edit", data={
        "category": "vaccination", "name": "X", "given_on": "2026-09-04"}).status_code == 403
    login_as(owner)
    twin = families.add_child(session, child.family, families.ChildDetails(
        name="Twin", birth_date=BORN, sex="male"))
    session.commit()
    # the twin's page, this child's row: not found, and nothing changes
    assert client.post(f"/children/{twin.id}/vaccinations/{typed.id}/edit", data={
        "category": "vaccination", "name": "X", "given_on": "2026-09-04"}).status_code == 404
    assert client.get(f"{url}/99999999/edit").status_code == 404
    session.expire_all()
    assert typed.name == "Newborn hearing check"


def test_the_summary_page_draws_the_days(client, session, family, login_as):
    owner, _, viewer, child = family
    start = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    entries.create_entry(session, child, owner, EntryInput("sleep", start,
                                                           data={"duration_min": 540}))
    entries.create_entry(session, child, owner, EntryInput(
        "feeding", NOW - timedelta(hours=1), data={"method": "bottle_formula", "amount_ml": 120}))
    entries.create_entry(session, child, owner, EntryInput(
        "tummy_time", NOW - timedelta(hours=2), data={"duration_min": 8}))
    session.commit()
    login_as(viewer)
    response = client.get(f"/children/{child.id}/days")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    totals = text_of(page[page.index('id="day-totals"'):page.index('class="row g-4"')])
    # today: 00:00-07:30 of the night's sleep, one bottle, 8 minutes on the tummy
    assert "Sleep 7 h 30 min" in totals and "Feeds 1 120 ml" in totals
    assert "Tummy time 8 min" in totals
    assert page.count('<svg class="daily-chart') == 5
    assert page.count('class="asleep"') == 2  # the night, split over two strips
    # today is not over: its bar in each chart is drawn lighter and says "so far"
    assert page.count('class="bar partial"') == 4 and page.count('class="bar"') == 4 * 13
    assert "<title>Mon, Nov 23: 7.5 h so far</title>" in page
    assert "<title>Sun, Nov 22: 1.5 h</title>" in page
    assert "/days?end=2026-11-09" in page  # 14 days shown: earlier ends the day before
    assert client.get(f"/children/{child.id}/days?end=2026-11-09").status_code == 200
    # the weeks' averages count the days with something logged: the night's 9 h over its
    # two days, one feed on one day, and no nappy to average at all
    weeks = text_of(page[page.index('id="weeks"'):page.index("The numbers, day by day")])
    assert "Nov 17 – Nov 23 4.5 h 1 —" in weeks and "Nov 10 – Nov 16 — — —" in weeks
    assert "An average counts only the days with something logged." in weeks
    for bad in ("2026-11-24", "2026-08-31", "yesterday", "2026-13-01", "9" * 30):
        assert client.get(f"/children/{child.id}/days?end={bad}").status_code == 404, bad


def test_a_fortnight_with_nothing_logged_says_so_instead_of_empty_charts(
        client, session, family, login_as):
    owner, _, viewer, child = family
    login_as(viewer)
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    assert "Nothing logged from Tue, Nov 10 to Mon, Nov 23." in text_of(page)
    assert f'href="/children/{child.id}#today"' in page  # to the page with the timers
    assert 'id="day-totals"' not in page and "daily-chart" not in page
    assert "/days?end=2026-11-09" in page  # earlier fortnights stay one click away
    # one nappy is enough for the charts
    entries.create_entry(session, child, owner, EntryInput(
        "diaper", NOW - timedelta(hours=1), data={"wet": True}))
    session.commit()
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    assert 'id="days-empty"' not in page and page.count('<svg class="daily-chart') == 4
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get(f"/children/{child.id}/days?end=2026-11-09").get_data(as_text=True)
    assert "没有任何记录" in page and "打开 Mia 的页面" in page


def test_a_toddlers_days_show_tummy_time_only_when_some_was_logged(client, session,
                                                                   make_family, login_as):
    owner, child = make_family(birth_date=date(2024, 11, 1))
    entries.create_entry(session, child, owner, EntryInput(
        "sleep", NOW - timedelta(hours=3), data={"duration_min": 90}))
    session.commit()
    login_as(owner)
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    assert 'id="total-sleep"' in page and 'id="total-tummy"' not in page
    assert "Tummy time" not in text_of(page[page.index('id="day-table"'):])
    entries.create_entry(session, child, owner, EntryInput(
        "tummy_time", NOW - timedelta(hours=2), data={"duration_min": 5}))
    session.commit()
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    assert "Tummy time 5 min" in text_of(page[page.index('id="day-totals"'):
                                               page.index('class="row g-4"')])


def test_the_summary_page_counts_a_sleep_still_running(client, session, family, login_as,
                                                        make_family, clock_at):
    owner, editor, viewer, child = family
    other, other_child = make_family(birth_date=BORN)  # another family's baby, asleep since 1:00
    timers.start(session, other_child, other, "sleep", now=NOW - timedelta(hours=11))
    timer = timers.start(session, child, owner, "sleep", now=NOW - timedelta(hours=14))
    session.commit()  # 22:00 yesterday in Shanghai, still asleep at 12:00

    def totals_and_strip(page):
        return (text_of(page[page.index('id="day-totals"'):page.index('class="row g-4"')]),
                page.count('class="asleep-now"'), page.count('class="asleep"'))

    login_as(viewer)
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    totals, running_parts, stopped_parts = totals_and_strip(page)
    assert "Sleep 12 h asleep now" in totals  # 00:00-12:00 today, nothing into the afternoon
    assert (running_parts, stopped_parts) == (2, 0)  # yesterday's 2 hours and today's 12
    assert "<title>asleep now</title>" in page
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    assert "正在睡觉" in totals_and_strip(page)[0]
    # an hour later the other parent stops it: the entry takes over, counted once
    clock_at(NOW + timedelta(hours=1))
    login_as(editor)
    assert client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                       data={"back": "days"}).status_code == 302
    page = client.get(f"/children/{child.id}/days").get_data(as_text=True)
    totals, running_parts, stopped_parts = totals_and_strip(page)
    assert "Sleep 13 h" in totals and "asleep now" not in page
    assert (running_parts, stopped_parts) == (0, 2)


def test_the_summary_and_record_are_for_born_children_only(client, make_family, login_as):
    parent, unborn = make_family(born=False)
    login_as(parent)
    assert client.get(f"/children/{unborn.id}/days").status_code == 404
    assert client.get(f"/children/{unborn.id}/vaccinations").status_code == 404
    page = client.get(f"/children/{unborn.id}").get_data(as_text=True)
    assert 'id="today"' not in page


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_every_daily_form_needs_its_token(self, client, session, family, reminder):
        owner, _, _, child = family
        timer = timers.start(session, child, owner, "sleep", now=NOW - timedelta(minutes=5))
        record = vaccinations.add(session, child, owner, "vaccination", "BCG", BORN)
        session.commit()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        assert client.post("/login", data={"email": owner.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        for url, data in ((f"/children/{child.id}/timers", {"kind": "feed", "side": "left"}),
                          (f"/children/{child.id}/timers/{timer.id}/stop", {}),
                          (f"/children/{child.id}/timers/{timer.id}/discard", {}),
                          (f"/children/{child.id}/reminders/hep-b-2/done",
                           {"given_on": "2026-11-20"}),
                          (f"/children/{child.id}/vaccinations",
                           {"category": "vaccination", "name": "X", "given_on": "2026-11-20"}),
                          (f"/children/{child.id}/vaccinations/{record.id}/delete", {}),
                          (f"/children/{child.id}/vaccinations/{record.id}/edit",
                           {"category": "checkup", "name": "Y", "given_on": "2026-11-21"})):
            assert client.post(url, data=data).status_code == 400, url
        assert set(running(session, child)) == {"sleep"}
        assert entry_count(session, child) == 0
        assert session.scalars(select(Vaccination.name)).all() == ["BCG"]
        # the page's own forms carry the token and work
        page = client.get(f"/children/{child.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        ok = client.post(f"/children/{child.id}/timers/{timer.id}/stop",
                         data={"csrf_token": token})
        assert ok.status_code == 302, text_of(ok.get_data(as_text=True))[-1500:]
        assert entry_count(session, child) == 1
