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
from plan.occurrences import Occurrence, item_occurrences
from plan.progress import ItemStatus, OccurrenceState, StageView, Step, fold, item_status, stage_step


def awaiting_outcome(plan: Plan, status: ItemStatus, as_of: dt.date, calendar: WorkingCalendar) -> list[StageView]:
    """The item's stages waiting for a unit's outcome on `as_of`, in the item's order."""
    horizon = calendar.add_working_days(as_of, plan.policy.remind_before_working_days)
    return [
        view
        for view in status.stages
        if not view.finished and view.opens <= as_of and view.due <= horizon
        and (view.stage is not Stage.COORDINATION or CoordinationStatus.INVITED in view.counterparts.values())
    ]


def occurrence_steps(
    plan: Plan, item: Item, occurrence: Occurrence, state: OccurrenceState, as_of: dt.date, calendar: WorkingCalendar
) -> list[tuple[Stage, str | None, Step]]:
    """The occurrence's stage steps on `as_of` in the order `content-item` takes them: each stage in
    turn, the coordination stage once per counterpart and then as a whole. `state` is carried from
    step to step (and updated), as the steps' records carry it in the ledger."""
    steps: list[tuple[Stage, str | None, Step]] = []
    for stage in Stage:
        if stage is Stage.COORDINATION and occurrence.counterparts:
            for counterpart in occurrence.counterparts:
                steps.append((stage, counterpart, stage_step(plan, item, occurrence, stage, state, as_of, calendar, counterpart=counterpart)))
        steps.append((stage, None, stage_step(plan, item, occurrence, stage, state, as_of, calendar)))
    return steps


def todays_steps(plan: Plan, item: Item, events: Sequence[Event | NewEvent], as_of: dt.date, calendar: WorkingCalendar) -> list[NewEvent]:
    """The events the item's stage steps would record on `as_of` (as `content-item` takes them),
    without recording anything."""
    new: list[NewEvent] = []
    states = fold(events)
    for occurrence in item_occurrences(plan, item, events, as_of):
        if occurrence.known_since > as_of:
            continue
        state = deepcopy(states.get((item.id, occurrence.id), OccurrenceState()))
        for _, _, step in occurrence_steps(plan, item, occurrence, state, as_of, calendar):
            new.extend(step.events)
    return new


def will_wait(plan: Plan, item: Item, events: list[Event], as_of: dt.date, calendar: WorkingCalendar) -> bool:
    """Whether the item's run on `as_of` would suspend for a unit's outcome, once its steps for the
    day are taken."""
    status = item_status(plan, item, [*events, *todays_steps(plan, item, events, as_of, calendar)], as_of, calendar)
    return bool(awaiting_outcome(plan, status, as_of, calendar))
