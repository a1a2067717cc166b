"""The analysts' Value page and the Due list: who may see them, what they show in both
languages, the follow-up form (roles, CSRF, hostile values) and the access log."""
from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from crm import scores
from crm.models import DueFollowUp
from diary.models import StaffAccess
from tests.conftest import PASSWORD
from tests.crm.test_crm_scores import buy, product  # noqa: F401  (fixture)
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
VALUE, DUE, STATUS = "/studio/crm/value", "/studio/crm/due", "/studio/crm/due/status"


def text(response):
    return response.get_data(as_text=True)


def accesses(session, what):
    session.expire_all()
    return list(session.scalars(select(StaffAccess).where(StaffAccess.what == what)))


@pytest.mark.parametrize(("role", "value", "due"), [
    ("analyst", 200, 200), ("admin", 200, 200), ("marketer", 403, 200), ("reviewer", 403, 403)])
def test_who_sees_which_page(client, login_as, session, role, value, due):
    login_as(make_staff(session, role))
    assert client.get(VALUE).status_code == value
    assert client.get(DUE).status_code == due
    assert client.post(VALUE).status_code == 405
    assert client.post(DUE).status_code == 405
    assert client.get(STATUS).status_code == 405


def test_parents_get_404_and_visitors_sign_in(client, login_as, make_family):
    for url in (VALUE, DUE):
        assert client.get(url).status_code == 302
    assert client.post(STATUS, data={}).status_code == 302
    login_as(make_family()[0])
    for url in (VALUE, DUE):
        assert client.get(url).status_code == 404
    assert client.post(STATUS, data={}).status_code == 404


def test_the_value_page_before_any_scores(client, login_as, session):
    login_as(make_staff(session, "analyst"))
    page = text(client.get(VALUE))
    assert "No scores yet" in page and "flask crm scores" in page
    assert 'href="/studio/crm/value"' in page and 'href="/studio/crm/due"' in page  # nav


def test_the_value_page_shows_tiers_groups_the_grid_and_top_customers(
        client, login_as, session, make_family, product):  # noqa: F811
    big, small, never = (make_family()[0] for _ in range(3))
    buy(session, product, big, datetime(2026, 11, 1, 2, tzinfo=UTC), 30000)
    buy(session, product, big, datetime(2026, 11, 20, 2, tzinfo=UTC), 12000)
    buy(session, product, small, datetime(2026, 10, 2, 2, tzinfo=UTC), 990)
    session.commit()
    scores.compute_scores(session, NOW)
    session.commit()
    analyst = make_staff(session, "analyst")
    login_as(analyst)
    page = text(client.get(VALUE))
    for words in ("High value", "Medium value", "Low value", "Keep and reward", "Develop:",
                  "Serve at low cost", "Most valuable", "Most growable", "Below zero",
                  "Recency × frequency", "Top customers by CLV", "CN¥420.00"):
        assert words in page, words
    assert f'href="/studio/families/members/{big.id}"' in page and big.member_no in page
    assert never.member_no not in page  # no CLV, not in the top list
    assert re.search(r'<th scope="row">R5</th><td class="crm-heat-\d">0</td>'
                     r'<td class="crm-heat-\d">0</td><td class="crm-heat-\d">0</td>'
                     r'<td class="crm-heat-\d">0</td><td class="crm-heat-5">1</td>', page)
    [access] = accesses(session, "crm_value")
    assert access.staff_user_id == analyst.id
    assert {s.member_no for s in access.subjects} == {big.member_no, small.member_no}
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    zh = text(client.get(VALUE))
    for words in ("客户价值", "高价值", "保持并回馈", "最有价值", "最具成长潜力", "负价值",
                  "按 CLV 排名的客户"):
        assert words in zh, words


def due_rows(page):
    return re.findall(r'<tr>\s*<td class="text-nowrap">(\d{4}-\d\d-\d\d)</td>', page)


def test_the_due_list_and_setting_a_follow_up(client, login_as, session, make_family):
    user, child = make_family(birth_date=date(2026, 5, 30), name="Coco")  # month 6 on the 30th
    marketer = make_staff(session, "marketer")
    login_as(marketer)
    page = text(client.get(DUE))
    assert "Coco" in page and user.member_no in page and "2026-11-30" in page
    assert "Baby, month 5" in page and "Baby, month 6" in page
    assert text(client.get(DUE + "?kind=nappy")).count("Coco") == 0
    assert "Coco" in text(client.get(DUE + "?kind=stage&page=abc"))  # a hostile page: 1
    hostile = client.get(DUE + "?kind=%3Cscript%3E&page=99999999999")  # all kinds, page 1
    assert hostile.status_code == 200 and "Coco" in text(hostile)
    assert "<script>" not in text(hostile).split("<main")[1].split("</main>")[0]
    [access] = accesses(session, "crm_due")[:1]
    assert user.member_no in {s.member_no for s in access.subjects}
    form = {"user_id": user.id, "child_id": child.id, "kind": "stage",
            "due_on": "2026-11-30", "status": "contacted", "back_kind": "stage"}
    response = client.post(STATUS, data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/studio/crm/due?kind=stage")
    row = session.scalar(select(DueFollowUp).where(DueFollowUp.child_id == child.id))
    assert (row.status, row.updated_by_id, row.detail) == ("contacted", marketer.id, "month:6")
    page = text(client.get(DUE))
    assert "Follow-up saved: Contacted." in page
    assert '<option selected value="contacted">' in page
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    zh = text(client.get(DUE))
    assert "到期名单" in zh and "已联系" in zh and "新阶段" in zh


def test_a_role_that_may_not_gets_403_and_hostile_values_400_or_404(
        client, login_as, session, make_family):
    user, child = make_family(birth_date=date(2026, 5, 30))
    other, _ = make_family()
    good = {"user_id": user.id, "child_id": child.id, "kind": "stage", "due_on": "2026-11-30",
            "status": "declined"}
    login_as(make_staff(session, "reviewer"))
    assert client.post(STATUS, data=good).status_code == 403
    login_as(make_staff(session, "analyst"))
    for field, value in (("user_id", "abc"), ("user_id", "-1"), ("user_id", "9" * 30),
                         ("child_id", ""), ("kind", "teeth"), ("due_on", "2026-13-45"),
                         ("due_on", "'; DROP TABLE users;--"), ("status", "won"),
                         ("status", "<script>")):
        assert client.post(STATUS, data={**good, field: value}).status_code == 400, field
    for field, value in (("user_id", other.id), ("due_on", "2026-12-01"), ("kind", "nappy"),
                         ("child_id", 2**31 - 1)):
        assert client.post(STATUS, data={**good, field: value}).status_code == 404, field
    assert session.scalar(select(DueFollowUp).where(DueFollowUp.child_id == child.id)) is None
    assert client.post(STATUS, data=good).status_code == 303


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_follow_up_needs_the_form_token(self, client, session, make_family):
        user, child = make_family(birth_date=date(2026, 5, 30))
        analyst = make_staff(session, "analyst")
        token = text(client.get("/login")).split(
            'name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": analyst.email, "password": PASSWORD,
                                    "csrf_token": token})
        form = {"user_id": user.id, "child_id": child.id, "kind": "stage",
                "due_on": "2026-11-30", "status": "converted"}
        assert client.post(STATUS, data=form).status_code == 400
        page = text(client.get(DUE))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(STATUS, data={**form, "csrf_token": token}).status_code == 303
        assert secrets.compare_digest(
            session.scalar(select(DueFollowUp.status).where(DueFollowUp.child_id == child.id)),
            "converted")
