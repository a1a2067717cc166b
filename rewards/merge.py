"""Reward points and samples follow a customer into the account theirs is merged into.

`crm.duplicates` merges two accounts of one person; crm sits below rewards and never
imports it, so this module registers a mover with it (`MOVER`, on import: `rewards` imports
it). What moves:

- every ledger row of the merged account, except a thing both accounts earned for (the same
  rule and reference, e.g. one streak day in a family both wrote in): that award, with its
  taking-back and giving-back rows, stays with the old account — the person had it once;
- every sample asked for (its "redeem" and "refund" rows move with the ledger);
- the balance follows: the survivor's grows by the points that moved, the old account keeps
  the sum of what stayed (never below zero: an award and what reverses it stay together).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm import duplicates
from diary.models import User
from rewards.models import PointsBalance, PointsEntry, Redemption
from rewards.points import _add_to_balance, _lock_balance, root_ref


class RewardsMover:
    kinds: tuple[str, ...] = ("reward_points", "reward_redemptions", "reward_balances")

    def plan(self, session: Session, survivor: User, merged: User
             ) -> dict[str, tuple[list[int], list[int]]]:
        theirs = {(rule, root_ref(ref)) for rule, ref in session.execute(
            select(PointsEntry.rule, PointsEntry.ref).where(PointsEntry.user_id == survivor.id))}
        moving: list[int] = []
        staying: list[int] = []
        for row_id, rule, ref in session.execute(
                select(PointsEntry.id, PointsEntry.rule, PointsEntry.ref)
                .where(PointsEntry.user_id == merged.id).order_by(PointsEntry.id)):
            (staying if (rule, root_ref(ref)) in theirs else moving).append(row_id)
        samples = list(session.scalars(select(Redemption.id).where(
            Redemption.user_id == merged.id).order_by(Redemption.id)))
        balance = session.get(PointsBalance, merged.id)
        return {"reward_points": (moving, staying), "reward_redemptions": (samples, []),
                "reward_balances": ([], [merged.id] if balance is not None else [])}

    def move(self, session: Session, survivor: User, merged: User,
             moving: dict[str, list[int]], now: datetime) -> None:
        ids = moving.get("reward_points", [])
        samples = moving.get("reward_redemptions", [])
        if samples:
            session.execute(update(Redemption).where(Redemption.id.in_(samples))
                            .values(user_id=survivor.id)
                            .execution_options(synchronize_session=False))
        if not ids:
            return
        for user_id in sorted((survivor.id, merged.id)):  # one order: no deadlock
            _lock_balance(session, user_id, now)
        total = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            total += sum(session.scalars(select(PointsEntry.points)
                                         .where(PointsEntry.id.in_(chunk))))
            session.execute(update(PointsEntry).where(PointsEntry.id.in_(chunk))
                            .values(user_id=survivor.id)
                            .execution_options(synchronize_session=False))
        # The survivor's first: the old account's may go down to exactly zero.
        _add_to_balance(session, survivor.id, total, now)
        _add_to_balance(session, merged.id, -total, now)


MOVER = RewardsMover()
duplicates.register_mover(MOVER)
