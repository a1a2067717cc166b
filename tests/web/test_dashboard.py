"""What the child page says: age headlines for every stage, corrected age, emails' language."""
from __future__ import annotations

import re
from datetime import date, timedelta

from diary import age as agemath


def _today(tz: str = "Asia/Shanghai") -> date:
    return agemath.local_today(tz)


def test_overdue_pregnancy_asks_whether_the_baby_arrived(make_family, login_as, client):
    user, child = make_family(born=False, due_date=_today() - timedelta(days=3))
    login_as(user)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Week 40+3: your due date has passed" in page
    assert f"/children/{child.id}/arrived" in page


def test_preterm_baby_shows_corrected_age(make_family, login_as, client):
    born = _today() - timedelta(days=70)  # 10 weeks old
    user, child = make_family(birth_date=born, gestational_weeks=32, gestational_days=0)
    login_as(user)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Mia is 10 weeks old" in page
    assert "Corrected age 2 weeks (born at 32+0 weeks)" in page  # 70 - 56 days = 14 days


def test_entry_shows_the_age_on_its_day(make_family, login_as, client):
    user, child = make_family(birth_date=_today() - timedelta(days=30))
    login_as(user)
    day = _today() - timedelta(days=2)
    client.post(f"/children/{child.id}/entries/new?kind=note",
                data={"occurred_date": day.isoformat(), "occurred_time": "09:00",
                      "body": "two days ago"})
    page = client.get(f"/children/{child.id}/timeline").get_data(as_text=True)
    assert "4 weeks" in page  # 28 days old that day


def test_pages_in_chinese_for_a_chinese_speaking_parent(make_family, login_as, client,
                                                         session):
    user, child = make_family(born=False, due_date=_today() + timedelta(days=140))
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "孕第 20 周" in page and "第 2 孕期" in page


def test_invitation_email_is_in_the_inviters_language(make_family, login_as, client, session,
                                                      mailer):
    user, child = make_family()
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "nainai@example.com", "role": "viewer",
                      "relationship": "grandparent"})
    email = mailer.sent[-1]
    assert re.search(r"[\u4e00-\u9fff]", email.subject)
    assert "http://localhost/join/" in email.text and email.html
