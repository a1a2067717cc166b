"""The analysis pages' share of `flask demo load`: the simulated families (recommender.simulate)
made into customers with a history, so a newcomer signed in as the demo analyst sees full
pages.

- Sign-ups: a simulated account "signed up" when it first acted in the log; the demo's
  families arrive over six months (`recommender.simulate.World(arrivals=True)`) and a fifth
  drift away, so the cohorts have several months and retention that falls.
- Win-back: every simulated customer scored gets "we miss you" (`campaigns.win_back`, with its
  holdout), and a share of the simulated sends and of the holdout is marked converted and a
  share of the inbox messages read — *simulated* responses, so the response page shows a
  lift with an interval. Only simulated accounts are touched.
- A saved report for the demo analyst, on the weekly email.

Safe to run again: dates are recomputed the same, sends are exactly-once, the report is kept.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm import churn, pivot, reports
from crm.models import SavedReport
from diary.models import User
from journeys import campaigns
from journeys.models import CampaignSend, InboxMessage
from recommender.models import Interaction

SIMULATED = "SM%"  # recommender.simulate's member numbers
DEMO_REPORT = "Orders by month and value tier"


def _share(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2 ** 64


def load(session: Session, now: datetime) -> dict[str, int]:
    firsts = dict(session.execute(
        select(Interaction.user_id, func.min(Interaction.occurred_at))
        .join(User, User.id == Interaction.user_id)
        .where(User.member_no.like(SIMULATED)).group_by(Interaction.user_id)).all())
    for user_id, first in firsts.items():
        session.execute(update(User).where(User.id == user_id)
                        .values(created_at=first - timedelta(hours=2)))
    simulated = set(firsts)
    # Every simulated customer with any P(alive) (the demo's families are all fairly new and
    # active, so the page's default list is short): enough sends for an interval.
    ids = [i for i in churn.churn_ids(session, now, churn.Criteria(max_p_alive=1.0,
                                                                   inactive_days=3650))
           if i in simulated]
    stats = campaigns.win_back(session, ids, now)
    for send in session.scalars(select(CampaignSend).where(
            CampaignSend.campaign == "we_miss_you", CampaignSend.user_id.in_(simulated),
            CampaignSend.converted_at.is_(None))):
        rate = 0.18 if send.holdout else 0.34
        if _share(f"converted:{send.id}") < rate:
            send.converted_at = send.created_at + timedelta(days=3)
        if send.delivery_id is not None and _share(f"read:{send.id}") < 0.55:
            session.execute(update(InboxMessage).where(
                InboxMessage.delivery_id == send.delivery_id, InboxMessage.read_at.is_(None))
                .values(read_at=send.created_at + timedelta(hours=20)))
    analyst = session.scalar(select(User).where(User.staff_role == "analyst")
                             .order_by(User.id))
    if analyst is not None and session.scalar(
            select(SavedReport.id).where(SavedReport.name == DEMO_REPORT)) is None:
        report = reports.save(session, analyst, DEMO_REPORT, pivot.parse(
            {"source": "orders", "rows": "month", "columns": "tier",
             "measure": "sum_amount"}), now)
        report.weekly = True
    session.flush()
    return {"customers": len(firsts), "win_back": stats.recorded}
