"""Feed, sleep and tummy-time timers (diary.timers): the running ones, start, stop, discard.

Stopping is the web's conditional stop: of two devices stopping one timer at once, exactly
one writes the diary entry; the other gets 409 conflict.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from clock import utcnow
from diary import families, timers
from diary.models import Timer
from webapp.blueprints.api_v1.framework import Call, endpoint
from webapp.database import transaction

TAG = "Timers"


class TimerOut(BaseModel):
    id: int
    kind: str = Field(description="feed, sleep or tummy.")
    side: str | None = Field(description="left or right (feeds).")
    status: str = Field(description="running, stopped or discarded.")
    started_at: datetime
    ended_at: datetime | None
    elapsed_minutes: int = Field(description="Minutes run so far (running) or in all.")
    entry_id: int | None = Field(description="The diary entry a stopped timer wrote.")


class RunningTimers(BaseModel):
    items: list[TimerOut] = Field(description="At most one per kind.")


def _out(timer: Timer) -> TimerOut:
    return TimerOut(id=timer.id, kind=timer.kind, side=timer.side, status=timer.status,
                    started_at=timer.started_at, ended_at=timer.ended_at,
                    elapsed_minutes=timers.elapsed_minutes(timer, timer.ended_at or utcnow()),
                    entry_id=timer.entry_id)


@endpoint("GET", "/children/<int:child_id>/timers", tag=TAG,
          summary="The child's running timers", response=RunningTimers)
def running_timers(call: Call, child_id: int) -> RunningTimers:
    child = families.child_for(call.session, call.user, child_id)
    running = timers.running(call.session, child)
    return RunningTimers(items=[_out(running[kind]) for kind in timers.TIMER_KINDS
                                if kind in running])


class StartIn(BaseModel):
    kind: Literal["feed", "sleep", "tummy"]
    side: Literal["left", "right"] | None = Field(None, description="Needed for a feed.")


@endpoint("POST", "/children/<int:child_id>/timers", tag=TAG, scope="write",
          summary="Start a timer", body=StartIn, response=TimerOut, status=201,
          errors=(409,))
def start_timer(call: Call, child_id: int) -> TimerOut:
    """409 when a timer of that kind already runs for the child."""
    body: StartIn = call.body
    child = families.child_for(call.session, call.user, child_id, write=True)
    with transaction() as s:
        timer = timers.start(s, child, call.user, body.kind, body.side)
    return _out(timer)


class StopIn(BaseModel):
    minutes: int | None = Field(None, description="The real minutes when it was stopped "
                                                  "late: between 1 and the time it ran.")


@endpoint("POST", "/children/<int:child_id>/timers/<int:timer_id>/stop", tag=TAG,
          scope="write", summary="Stop a timer and write its diary entry", body=StopIn,
          response=TimerOut, errors=(409,))
def stop_timer(call: Call, child_id: int, timer_id: int) -> TimerOut:
    """409 conflict when another device stopped or discarded it first."""
    body: StopIn = call.body
    child = families.child_for(call.session, call.user, child_id, write=True)
    with transaction() as s:
        timers.stop(s, child, call.user, timer_id, body.minutes)
        timer = timers.timer_of(s, child, timer_id)
    return _out(timer)


@endpoint("POST", "/children/<int:child_id>/timers/<int:timer_id>/discard", tag=TAG,
          scope="write", summary="Discard a running timer (no entry)", errors=(409,))
def discard_timer(call: Call, child_id: int, timer_id: int) -> None:
    child = families.child_for(call.session, call.user, child_id, write=True)
    with transaction() as s:
        timers.discard(s, child, timer_id)
