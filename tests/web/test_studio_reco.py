"""The analysts' page of the recommender: who may read it, the latest evaluation and the
online click-through against the control, in both languages."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from recommender import artifacts
from tests.recommender.test_reports import product, put  # noqa: F401  (fixture)
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
AT = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
URL = "/studio/suggestions"


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("admin", 200),
                                               ("marketer", 403), ("reviewer", 403)])
def test_analysts_and_admins_read_it_other_staff_get_403(client, login_as, session, role,
                                                         status):
    login_as(make_staff(session, role))
    assert client.get(URL).status_code == status
    assert client.post(URL).status_code in (400, 405)


def test_parents_get_404_and_visitors_sign_in(client, login_as, make_family):
    assert client.get(URL).status_code == 302
    login_as(make_family()[0])
    assert client.get(URL).status_code == 404


def test_it_shows_the_evaluation_and_the_lift_over_the_control(client, login_as, session, app,
                                                               make_family, product):
    folder = Path(app.config["RECO_ARTIFACT_DIR"])
    artifacts.save_evaluation(folder, {"dataset": "simulated", "protocol": "leave last out",
                                       "models": {"ours": {"hr@10": 0.5, "ndcg@10": 0.25,
                                                           "map@10": 0.2, "coverage": 0.9,
                                                           "novelty": 3.1}}}, AT)
    a, b, c, d = (make_family()[0] for _ in range(4))
    put(session, product, a, "v1", 10, 3, at=AT)
    put(session, product, b, "v1", 10, 1, at=AT)
    put(session, product, c, "control", 10, 1, at=AT)
    put(session, product, d, "control", 10, 0, at=AT)
    session.commit()
    login_as(make_staff(session, "analyst"))
    html = client.get(URL).get_data(as_text=True)
    assert "simulated" in html and "0.2500" in html and "leave last out" in html
    assert "No model has been trained yet" in html
    assert "20.00%" in html and "5.00%" in html  # v1 and the control on month 3
    assert "+15.00 (-6.91 … +36.91)" in html
    assert "Baby, month 3" in html and "All stages" in html
    assert "<td>Child's page</td>" in html and "<td>child_page</td>" not in html
    assert 'href="/studio/suggestions"' in html  # in the studio's navigation
    # an old window leaves the rows out; a hostile window falls back to 28 days
    assert "No suggestions were seen" not in client.get(URL + "?days=abc").get_data(
        as_text=True)
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    html = client.get(URL).get_data(as_text=True)
    assert "线上点击率" in html and "对照组" in html and "离线评估" in html
    assert "<td>宝宝主页</td>" in html


def test_an_empty_log_and_no_evaluation_say_so(client, login_as, session):
    login_as(make_staff(session, "admin"))
    html = client.get(URL + "?days=7").get_data(as_text=True)
    assert "No evaluation yet." in html and "No suggestions were seen in this period." in html
