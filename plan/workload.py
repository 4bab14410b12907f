"""Which items have work on a date: the decision behind `plan-run` giving a run only to those.

An item has work today when its steps for the day would record something (a stage opens, moves or
falls overdue; an occurrence begins or ends; an invitation goes unanswered past its date), when one
of its stages waits for a unit's outcome, or when a mail it calls for (invitation, reminder,
overdue notice, escalation) is not in the outbox yet. Everything else about it is already in the
ledger: running it would record nothing and send nothing, so it appears in the status table with
its computed status, without a run.

Pure: plan, events, date in; which mails are new is asked of the caller (`new_mails`), since mail
content belongs to notifications/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from plan.awaiting import awaiting_outcome, todays_steps
from plan.calendar import WorkingCalendar
from plan.events import Event, NewEvent
from plan.model import Item, Plan
from plan.progress import ItemStatus, item_status


@dataclass(frozen=True)
class Work:
    """What an item would do today: events its steps record, whether it waits for a unit, new mails."""

    status: ItemStatus  # after today's steps
    steps: int
    waits: bool
    mails: int

    def needs_run(self, can_wait: bool) -> bool:
        """Whether the item's run would do anything: record, queue a mail, or (where a run can
        suspend for a unit, a deployment) wait for an outcome."""
        return bool(self.steps or self.mails or (can_wait and self.waits))


def work_today(
    plan: Plan,
    item: Item,
    events: Sequence[Event | NewEvent],
    as_of: dt.date,
    calendar: WorkingCalendar,
    new_mails: Callable[[ItemStatus], int] = lambda status: 0,
) -> Work:
    """The item's work on `as_of`, from its events in the ledger (no other item's are needed)."""
    recorded = {event.key for event in events}
    steps = [step for step in todays_steps(plan, item, events, as_of, calendar) if step.key not in recorded]  # the ledger keeps a key once
    status = item_status(plan, item, [*events, *steps], as_of, calendar)
    return Work(status=status, steps=len(steps), waits=bool(awaiting_outcome(plan, status, as_of, calendar)), mails=new_mails(status))
