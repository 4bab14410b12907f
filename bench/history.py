"""A plan's past, as daily plan-runs would have left it, for benchmarking an ordinary morning.

From the plan's issue to the day before the benchmark's, every day: each item's steps (the events its
content-item run records: plan/awaiting.todays_steps), every unit giving the outcome of a stage on the
day it is due (done, or "confirmed" for an invited counterpart), and the coordination mails the
items call for, queued once and marked sent (they went out on their day). Items are independent, so
each is replayed on its own, in this process, with the same functions the flows use.

`typical_day` picks the first working day from a given date on which at most N items have work
(plan/workload.py, as a deployed plan-run decides it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from notifications.coordination import coordination_keys, coordination_mails
from notifications.mail import Mail
from notifications.outbox import Outbox
from plan.awaiting import awaiting_outcome, todays_steps
from plan.events import NewEvent, plan_ref
from plan.ledger import Ledger
from plan.ledger_tables import outbox_table
from plan.model import Item, Plan, Stage
from plan.progress import item_status
from plan.recording import outcome_record
from plan.schedule import working_calendar
from plan.workload import work_today

ANSWERS = {
    Stage.PREPARATION: {"result": "done"},
    Stage.EXECUTION: {"result": "done"},
    Stage.REPORTING: {"result": "done"},
}


@dataclass
class History:
    events: list[NewEvent] = field(default_factory=list)
    mails: list[tuple[dt.date, Mail]] = field(default_factory=list)  # with the day each was queued
    with_work: dict[dt.date, int] = field(default_factory=dict)  # items with work, each day, before its runs


def _new_mails(plan: Plan, day: dt.date, calendar, queued: set[str]):
    return lambda status: len(coordination_keys(plan, [status], day, calendar=calendar) - queued)


def _replay(plan: Plan, item: Item, first: dt.date, until: dt.date, history: History) -> None:
    calendar = working_calendar(plan)
    events: list[NewEvent] = []
    queued: set[str] = set()
    day = first
    while day <= until:
        work = work_today(plan, item, events, day, calendar, _new_mails(plan, day, calendar, queued))
        if work.needs_run(can_wait=True):
            history.with_work[day] = history.with_work.get(day, 0) + 1
        recorded = {e.key for e in events}
        events += [e for e in todays_steps(plan, item, events, day, calendar) if e.key not in recorded]
        status = item_status(plan, item, events, day, calendar)  # type: ignore[arg-type]
        if work.mails:
            new = [m for m in coordination_mails(plan, [status], day, calendar=calendar) if m.key not in queued]
            history.mails += [(day, m) for m in new]
            queued |= {m.key for m in new}
        for view in awaiting_outcome(plan, status, day, calendar):
            if view.due != day:
                continue
            answers = (
                [{"counterpart": cp, "answer": "confirmed"} for cp, s in view.counterparts.items() if s.value == "invited"]
                if view.stage is Stage.COORDINATION else [ANSWERS[view.stage]]
            )
            for data in answers:
                _, produced = outcome_record(plan, item, view.stage, dict(data), events, on=day, actor="đơn vị (mô phỏng)", occurrence=view.occurrence.id)  # type: ignore[arg-type]
                events += produced
        day += dt.timedelta(days=1)
    history.events += events


def replay(plan: Plan, until: dt.date, since: dt.date | None = None) -> History:
    """Every item's past up to and including `until`."""
    history = History()
    for item in plan.items:
        _replay(plan, item, since or plan.document.issued_on, until, history)
    return history


def write(plan: Plan, ledger: Ledger, history: History) -> None:
    """Into the ledger and its outbox, the mails marked sent on their day."""
    ledger.append(plan_ref(plan), history.events)
    outbox = Outbox(ledger)
    outbox.queue(plan.id, [mail for _, mail in history.mails])
    with ledger.transaction(write=True) as conn:
        conn.execute(outbox_table.update().where(outbox_table.c.plan_id == plan.id).values(status="sent", attempts=1, sent_at=sa.func.now()))


def until(history: History, day: dt.date) -> History:
    """The part of a history before `day` (items are replayed independently, so it is the same as
    replaying up to the day before)."""
    return History(
        events=[e for e in history.events if e.effective_date is not None and e.effective_date < day],
        mails=[(d, m) for d, m in history.mails if d < day],
        with_work={d: n for d, n in history.with_work.items() if d < day},
    )


def typical_day(plan: Plan, start: dt.date, at_most: int) -> tuple[dt.date, int, History]:
    """The first day from `start` (plan-run runs every morning) with between 1 and `at_most` items
    with work, how many, and the history before it."""
    horizon = replay(plan, dt.date(plan.year, 12, 14))
    day = start
    while day <= dt.date(plan.year, 12, 14):
        count = horizon.with_work.get(day, 0)
        if 1 <= count <= at_most:
            return day, count, until(horizon, day)
        day += dt.timedelta(days=1)
    raise SystemExit(f"no day from {start} with at most {at_most} items with work: {sorted(horizon.with_work.items())[:60]}")
