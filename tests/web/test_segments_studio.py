"""The segment studio: who may use it, the builder without and with htmx, the live count,
save/edit/delete in one transaction with CSRF, audited members and a formula-safe CSV."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from crm import segments
from crm.models import CustomerScore, Segment
from diary.models import StaffAccess
from journeys.models import MarketingCampaign
from tests.web.test_studio import make_staff, page_text

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Market")


@pytest.fixture()
def analyst(session):
    return make_staff(session, "analyst", "Alex Analyst")


@pytest.fixture()
def customers(session, make_family):
    """ann: high tier, child turning one within the week; bob: low tier, expecting;
    eve: no score, formula-shaped name."""
    ann, _ = make_family(email="ann@example.com", birth_date=date(2025, 11, 30), name="Ava")
    bob, _ = make_family(email="bob@example.com", born=False)
    eve, _ = make_family(email="eve@example.com", birth_date=date(2026, 1, 1))
    eve.display_name = "=HYPERLINK(\"http://evil\",\"x\")"
    for user, tier, clv, alive in ((ann, "high", 800, 0.3), (bob, "low", 10, 0.9)):
        session.add(CustomerScore(user_id=user.id, computed_at=NOW, frequency=1,
                                  monetary_minor=clv * 100, r_score=1, f_score=1, m_score=1,
                                  tier=tier, value_group="other", expected_purchases_90d=0.1,
                                  p_alive=alive, clv_minor=clv * 100))
    session.commit()
    return {"ann": ann, "bob": bob, "eve": eve}


def rows(*conditions):
    """Form fields of a builder with these (field, op, value, second) rows."""
    data = {"rows": str(len(conditions))}
    for n, (field, op, *values) in enumerate(conditions):
        data[f"c-{n}-field"], data[f"c-{n}-op"] = field, op
        if values:
            data[f"c-{n}-v"] = values[0]
        if len(values) > 1:
            data[f"c-{n}-v2"] = values[1]
    return data


DRIFTING = rows(("tier", "in", ["high"]), ("p_alive", "below", "50"),
                ("child_age", "turning_months_within_days", "12", "31"))


def count_text(response):
    """The page's words, without tags or line breaks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text(response))).strip()


# --- who may use it --------------------------------------------------------------------------

URLS = ["/studio/segments", "/studio/segments/new", "/studio/segments/count?rows=0",
        "/studio/segments/{id}", "/studio/segments/{id}/members",
        "/studio/segments/{id}/count", "/studio/segments/{id}/export.csv"]
POSTS = ["/studio/segments/new", "/studio/segments/builder", "/studio/segments/{id}",
         "/studio/segments/{id}/delete"]


def test_parents_get_404_other_staff_403_marketers_and_analysts_and_admins_in(
        client, session, login_as, make_family, marketer, customers):
    segment = segments.create(session, marketer, "Everyone", "", {"conditions": []})
    session.commit()
    parent, _ = make_family()
    cases = [(parent, 404), (make_staff(session, "reviewer"), 403),
             (marketer, 200), (make_staff(session, "analyst"), 200),
             (make_staff(session, "admin"), 200)]
    for user, status in cases:
        login_as(user)
        for url in URLS:
            assert client.get(url.format(id=segment.id)).status_code == status, (url, user)
        if status != 200:
            for url in POSTS:
                response = client.post(url.format(id=segment.id), data=rows())
                assert response.status_code == status, (url, user)
    assert session.get(Segment, segment.id) is not None
    client.post("/logout")
    assert client.get("/studio/segments").status_code == 302  # to the sign-in page


def test_a_missing_segment_is_404(client, login_as, marketer):
    login_as(marketer)
    for url in ("/studio/segments/999999", "/studio/segments/999999/count",
                "/studio/segments/999999/export.csv", "/studio/segments/999999/members"):
        assert client.get(url).status_code == 404
    assert client.post("/studio/segments/999999/delete").status_code == 404
    assert client.get("/studio/segments/99999999999").status_code == 404


# --- building --------------------------------------------------------------------------------

def test_the_live_count_follows_the_conditions(client, login_as, analyst, customers):
    login_as(analyst)
    assert "3 customers match" in count_text(client.get("/studio/segments/count",
                                                        query_string=rows()))
    assert "1 customer matches" in count_text(client.get("/studio/segments/count",
                                                         query_string=DRIFTING))
    two = rows(("tier", "in", ["high", "low"]))
    assert "2 customers match" in count_text(client.get("/studio/segments/count",
                                                        query_string=two))
    bad = rows(("p_alive", "below", "150"))
    response = client.get("/studio/segments/count", query_string=bad)
    assert response.status_code == 200  # shown in place of the number
    assert "Condition 1: enter a percentage from 0 to 100." in count_text(response)


def test_the_builder_adds_removes_and_follows_a_new_field(client, login_as, marketer):
    login_as(marketer)
    page = client.get("/studio/segments/new")
    assert page.status_code == 200 and 'name="c-0-field"' in page_text(page)
    # htmx: only the rows come back, and the count is told to follow
    added = client.post("/studio/segments/builder", data={**rows(("tier", "in", ["high"])),
                                                           "add": "1"})
    assert added.headers["HX-Trigger"] == "segment-changed"
    assert 'name="c-1-field"' in page_text(added) and 'name="rows" value="2"' in page_text(added)
    # a new field resets the comparison to the field's first
    changed = client.post("/studio/segments/builder", data=rows(("last_visit", "in", ["x"])))
    assert '<option value="within_days" selected>' in page_text(changed)
    removed = client.post("/studio/segments/builder", data={
        **rows(("tier", "in", ["high"]), ("stage", "born")), "remove": "0"})
    assert 'name="rows" value="1"' in page_text(removed)
    assert 'value="born" selected' in page_text(removed)
    # without JavaScript the same buttons post the page, which comes back unsaved
    plain = client.post("/studio/segments/new", data={**rows(("tier", "in", ["high"])),
                                                      "name": "X", "add": "1"})
    assert plain.status_code == 200 and 'name="c-1-field"' in page_text(plain)


def test_save_edit_and_delete(client, session, login_as, marketer, customers):
    login_as(marketer)
    response = client.post("/studio/segments/new", data={
        **DRIFTING, "name": "High value, drifting away, turning one",
        "description": "For the first-birthday offer", "save": "1"})
    assert response.status_code == 303
    segment = session.scalar(select(Segment))
    assert response.headers["Location"].endswith(f"/studio/segments/{segment.id}")
    assert segment.definition == {"conditions": [
        {"field": "tier", "op": "in", "value": ["high"]},
        {"field": "p_alive", "op": "below", "value": 50.0},
        {"field": "child_age", "op": "turning_months_within_days", "value": [12, 31]}]}
    assert segment.created_by_id == marketer.id
    page = page_text(client.get(f"/studio/segments/{segment.id}"))
    assert "1 customer matches" in count_text(client.get(f"/studio/segments/{segment.id}"))
    assert 'value="High value, drifting away, turning one"' in page

    changed = client.post(f"/studio/segments/{segment.id}", data={
        **rows(("tier", "in", ["high", "low"])), "name": "Tiers", "description": "",
        "version": "1"})
    assert changed.status_code == 303
    session.expire_all()
    assert (segment.name, segment.version) == ("Tiers", 2)
    stale = client.post(f"/studio/segments/{segment.id}", data={
        **rows(), "name": "Stale", "version": "1"})
    assert stale.status_code == 400
    assert "Someone changed this segment while you were editing it" in page_text(stale)

    deleted = client.post(f"/studio/segments/{segment.id}/delete", data={"version": "2"})
    assert deleted.status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Segment)) == 0


def test_refused_saves_show_the_problem_and_write_nothing(client, session, login_as,
                                                          marketer):
    login_as(marketer)
    bad = client.post("/studio/segments/new", data={
        **rows(("tier", "in", ["high"]), ("clv", "at_least", "-5")), "name": "Bad"})
    assert bad.status_code == 400
    page = page_text(bad)
    assert "Condition 2: enter an amount from 0 to 10000000." in page
    assert 'class="seg-row seg-row-error" id="c-1"' in page
    nameless = client.post("/studio/segments/new", data={**rows(), "name": "  "})
    assert nameless.status_code == 400 and "Give the segment a name." in page_text(nameless)
    segments.create(session, marketer, "Taken", "", {"conditions": []})
    session.commit()
    clash = client.post("/studio/segments/new", data={**rows(), "name": "TAKEN"})
    assert clash.status_code == 400
    assert "Another segment is already called “TAKEN”." in page_text(clash)
    hostile = client.post("/studio/segments/new", data={
        "rows": "99999999999999", "c-0-field": "users.id", "name": "Hostile"})
    assert hostile.status_code == 303  # unknown rows are dropped: "every customer"
    session.expire_all()
    assert session.scalar(select(Segment).where(Segment.name == "Hostile")).definition == {
        "conditions": []}
    assert session.scalar(select(func.count()).select_from(Segment)) == 2


def test_a_segment_in_use_is_not_deleted(client, session, login_as, marketer):
    segment = segments.create(session, marketer, "Used", "", {"conditions": []})
    session.flush()
    session.add(MarketingCampaign(name="Hello", segment_id=segment.id, trigger="once",
                                  message_key="x", channels=["inbox"], holdout_share=0,
                                  goal="visit", goal_days=7))
    session.commit()
    login_as(marketer)
    response = client.post(f"/studio/segments/{segment.id}/delete", follow_redirects=True)
    assert "This segment is the audience of Hello. Choose another audience there first." \
        in page_text(response)
    assert session.get(Segment, segment.id) is not None


def test_csrf_is_required(app, client, session, login_as, marketer):
    segment = segments.create(session, marketer, "Keep", "", {"conditions": []})
    session.commit()
    login_as(marketer)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/studio/segments/{segment.id}/delete").status_code == 400
    assert client.post("/studio/segments/new", data={**rows(), "name": "X"}).status_code == 400
    assert session.get(Segment, segment.id) is not None
    assert session.scalar(select(func.count()).select_from(Segment)) == 1


# --- customer data: audited ------------------------------------------------------------------

def test_members_and_export_are_recorded_and_formula_safe(client, session, login_as, analyst,
                                                          customers):
    segment = segments.create(session, analyst, "All", "", {"conditions": []})
    session.commit()
    login_as(analyst)
    edit = client.get(f"/studio/segments/{segment.id}")
    assert session.scalar(select(func.count()).select_from(StaffAccess)) == 0  # no names yet
    assert "ann" not in page_text(edit)
    members = client.get(f"/studio/segments/{segment.id}/members",
                         headers={"HX-Request": "true"})
    assert members.status_code == 200 and customers["ann"].member_no in page_text(members)
    [access] = session.scalars(select(StaffAccess)).all()
    assert (access.what, access.staff_user_id) == ("segment_members", analyst.id)
    assert {s.user_id for s in access.subjects} == {u.id for u in customers.values()}

    export = client.get(f"/studio/segments/{segment.id}/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True)
    assert text.startswith("\ufeffmember_no,name,email,")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # formula-safe
    assert "ann@example.com" in text and "800.00" in text
    accesses = session.scalars(select(StaffAccess).order_by(StaffAccess.id)).all()
    assert accesses[-1].what == "segment_export"
    assert {s.user_id for s in accesses[-1].subjects} == {u.id for u in customers.values()}


def test_the_list_and_both_languages(client, session, login_as, marketer, customers):
    segments.create(session, marketer, "Drifting", "", {"conditions": [
        {"field": "tier", "op": "in", "value": ["high", "medium"]},
        {"field": "child_age", "op": "turning_months_within_days", "value": [12, 31]}]})
    session.commit()
    login_as(marketer)
    page = page_text(client.get("/studio/segments"))
    assert "Value tier is one of: High or Medium" in page
    assert "A child turns 12 months within 31 days" in page
    marketer.locale = "zh_CN"
    session.commit()
    page = page_text(client.get("/studio/segments"))
    assert "客户分群" in page and "价值等级" in page
    new = page_text(client.get("/studio/segments/new"))
    assert "添加条件" in new and "保存分群" in new
    assert "Add a condition" not in new
