"""The inbox: a new family's first stage arrives at once; read/unread; private."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from content import packs
from diary import age as agemath
from diary.photos import PhotoStore
from journeys.models import InboxMessage
from tests.web.helpers import confirm_address


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

