"""Online click-through by model version, surface and stage against the control, with the
interval of `online.ctr_lift` (hand-checked counts), and the evaluations kept for the page."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from content.models import ContentItem
from recommender import artifacts, log, online, reports

AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture
def product(session):
    item = ContentItem(kind="product", key="nappies-2", window_unit="month", window_from=2,
                       window_to=6)
    session.add(item)
    session.flush()
    return item


def put(session, product, user, version, shown, clicked, stage="month:3",
        surface="child_page", at=AT):
    n = put.count = getattr(put, "count", 0) + 1
    for i in range(shown):
        log.record(session, log.Event(kind="impression", item_id=product.id, surface=surface,
                                      idempotency_key=f"i{n}-{i}", user_id=user.id,
                                      stage=stage, model_version=version, occurred_at=at))
    for i in range(clicked):
        log.record(session, log.Event(kind="click", item_id=product.id, surface=surface,
                                      idempotency_key=f"c{n}-{i}", user_id=user.id,
                                      stage=stage, model_version=version, occurred_at=at))


def test_each_version_surface_and_stage_against_the_control(session, make_family, product):
    a, b, c, d = (make_family()[0] for _ in range(4))
    put(session, product, a, "v1", 10, 3)
    put(session, product, b, "v1", 10, 1)
    put(session, product, c, "control", 10, 1)
    put(session, product, d, "control", 10, 0)
    put(session, product, a, "v1", 4, 1, stage="month:4")
    put(session, product, a, "library", 50, 50)  # the library's order: not a model
    put(session, product, a, "v1", 0, 2, surface="email")  # clicks only: no rate
    put(session, product, c, "control", 2, 5, stage="month:4")  # capped at 2 of 2
    rows = reports.online_ctr(session)
    got = [(r.model_version, r.surface, r.stage, r.people, r.impressions, r.clicks)
           for r in rows]
    assert got == [
        ("control", "child_page", "", 2, 22, 3),
        ("v1", "child_page", "", 2, 24, 5),
        ("control", "child_page", "month:3", 2, 20, 1),
        ("v1", "child_page", "month:3", 2, 20, 4),
        ("control", "child_page", "month:4", 1, 2, 2),
        ("v1", "child_page", "month:4", 1, 4, 1),
    ]
    by = {(r.model_version, r.stage): r for r in rows}
    assert by[("control", "month:3")].lift is None
    lift = by[("v1", "month:3")].lift
    assert lift == online.ctr_lift([(3, 10), (1, 10)], [(1, 10), (0, 10)])
    assert (round(lift.difference, 4), round(lift.low, 4), round(lift.high, 4)) == (
        0.15, -0.0691, 0.3691)  # se = sqrt(2·2/400 + 2·0.5/400) = 0.1118
    assert by[("v1", "month:3")].ctr == 0.2


def test_since_leaves_older_rows_out_and_an_empty_log_is_empty(session, make_family, product):
    assert reports.online_ctr(session) == []
    user = make_family()[0]
    put(session, product, user, "v1", 3, 1, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert reports.online_ctr(session, since=AT) == []
    assert len(reports.online_ctr(session)) == 2


def test_evaluations_are_kept_per_data_set_newest_first(tmp_path):
    assert artifacts.latest_evaluations(tmp_path) == []
    old = {"dataset": "simulated", "protocol": "p", "models": {"ours": {"ndcg@10": 0.1}}}
    new = {"dataset": "movielens-100k", "protocol": "p", "models": {"ease": {"ndcg@10": 0.07}}}
    artifacts.save_evaluation(tmp_path, old, datetime(2026, 11, 1, tzinfo=UTC))
    artifacts.save_evaluation(tmp_path, new, datetime(2026, 11, 2, tzinfo=UTC))
    (tmp_path / "evaluations" / "broken.json").write_text("{not json")
    assert [e["dataset"] for e in artifacts.latest_evaluations(tmp_path)] == [
        "movielens-100k", "simulated"]
    with pytest.raises(ValueError):
        artifacts.save_evaluation(tmp_path, {"dataset": "../../etc/x", "models": {}}, AT)
