"""A customer's own scores go into their data export; saved segments (staff work) do not."""
from __future__ import annotations

from datetime import UTC, datetime

from crm import privacy
from crm.models import CustomerScore
from diary.privacy import ExportRegistry, ExportScope


def test_the_scores_are_exported_and_segments_declared(session, make_family):
    user, _ = make_family()
    registry = ExportRegistry()
    privacy.register(registry)
    section = registry.sections["customer_score"]
    scope = ExportScope(user=user, memberships=[])
    assert section.collect(session, scope) is None  # not scored yet
    session.add(CustomerScore(user_id=user.id, computed_at=datetime(2026, 11, 23, tzinfo=UTC),
                              frequency=3, monetary_minor=12000, r_score=4, f_score=3,
                              m_score=5, tier="high", value_group="most_valuable",
                              expected_purchases_90d=1.5, p_alive=0.8, clv_minor=50000))
    session.flush()
    got = section.collect(session, scope)
    assert (got["tier"], got["clv_minor"], got["p_alive"]) == ("high", 50000, 0.8)
    assert got["computed_at"] == "2026-11-23T00:00:00+00:00"
    assert "segments" in registry.not_personal
