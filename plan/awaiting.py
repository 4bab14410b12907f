"""Which stages wait for a unit's outcome today: the one decision behind a `content-item` run
suspending for input and `plan-run` giving that item a run of its own to wait in.

A stage waits when it is open, not finished and due within the plan's reminder horizon; a
coordination stage waits only while an invited counterpart has not answered. Pure: plan, events,
date in; no ledger, no Prefect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from copy import deepcopy

from plan.calendar import WorkingCalendar
from plan.events import CoordinationStatus, Event, NewEvent
from plan.model import Item, Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import ItemStatus, OccurrenceState, StageView, fold, item_status, stage_step


def awaiting_outcome(plan: Plan, status: ItemStatus, as_of: dt.date, calendar: WorkingCalendar) -> list[StageView]:
    """The item's stages waiting for a unit's outcome on `as_of`, in the item's order."""
    horizon = calendar.add_working_days(as_of, plan.policy.remind_before_working_days)
    return [
        view
        for view in status.stages
        if not view.finished and view.opens <= as_of and view.due <= horizon
        and (view.stage is not Stage.COORDINATION or CoordinationStatus.INVITED in view.counterparts.values())
    ]


def todays_steps(plan: Plan, item: Item, events: Sequence[Event | NewEvent], as_of: dt.date, calendar: WorkingCalendar) -> list[NewEvent]:
    """The events the item's stage steps would record on `as_of` (as `content-item` takes them),
    without recording anything."""
    new: list[NewEvent] = []
    states = fold(events)
    for occurrence in item_occurrences(plan, item, events, as_of):
        if occurrence.known_since > as_of:
            continue
        state = deepcopy(states.get((item.id, occurrence.id), OccurrenceState()))
        for stage in Stage:
            if stage is Stage.COORDINATION and occurrence.counterparts:
                for counterpart in occurrence.counterparts:
                    new.extend(stage_step(plan, item, occurrence, stage, state, as_of, calendar, counterpart=counterpart).events)
            new.extend(stage_step(plan, item, occurrence, stage, state, as_of, calendar).events)
    return new


def will_wait(plan: Plan, item: Item, events: list[Event], as_of: dt.date, calendar: WorkingCalendar) -> bool:
    """Whether the item's run on `as_of` would suspend for a unit's outcome, once its steps for the
    day are taken."""
    status = item_status(plan, item, [*events, *todays_steps(plan, item, events, as_of, calendar)], as_of, calendar)
    return bool(awaiting_outcome(plan, status, as_of, calendar))
