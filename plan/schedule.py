"""When each stage of an item is due: the item's window (or an occurrence's dates) plus stage offsets,
counted in Vietnamese working days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from plan.calendar import WorkingCalendar
from plan.model import AllYearWindow, Anchor, Item, OnRequestWindow, Plan, Stage


def working_calendar(plan: Plan) -> WorkingCalendar:
    """The plan's working calendar: official holidays plus the plan's own swapped days."""
    return WorkingCalendar(
        extra_days_off={d.date: d.name for d in plan.calendar.days_off},
        extra_working_days={d.date: d.name for d in plan.calendar.working_days},
    )


def item_span(plan: Plan, item: Item) -> tuple[dt.date, dt.date] | None:
    """First and last day of an item's window; None for items that only happen on request."""
    window = item.window
    if isinstance(window, AllYearWindow):
        return dt.date(plan.year, 1, 1), dt.date(plan.year, 12, 31)
    if isinstance(window, OnRequestWindow):
        return None
    return window.start, window.end


def stage_due_dates(
    plan: Plan,
    item: Item,
    *,
    calendar: WorkingCalendar | None = None,
    occurrence: tuple[dt.date, dt.date] | None = None,
) -> dict[Stage, dt.date] | None:
    """Due date of every stage, or None when the item has no dates yet (on request, no occurrence).

    With `occurrence` (its first and last day), the dates are those of one occurrence: a month of a
    recurring item, a session of a programme, one request of an on-request item.
    """
    span = occurrence or item_span(plan, item)
    if span is None:
        return None
    calendar = calendar or working_calendar(plan)
    anchors = {Anchor.START: span[0], Anchor.END: span[1], Anchor.ISSUED: plan.document.issued_on}
    dues = {}
    for stage in Stage:
        offset = plan.offset(item, stage, occurrence=occurrence is not None)
        if offset is None:
            raise ValueError(f"item {item.id}: stage {stage.value} has no offset")  # the rules refuse such plans
        dues[stage] = calendar.add_working_days(anchors[offset.anchor], offset.working_days)
    return dues


@dataclass(frozen=True)
class Deadline:
    """One stage due date of one item, as shown in calendars."""

    item: Item
    stage: Stage
    due: dt.date


def plan_deadlines(plan: Plan, *, unit: str | None = None) -> list[Deadline]:
    """Every dated stage deadline of the plan, by date; for one unit, the items it has a role in."""
    calendar = working_calendar(plan)
    deadlines = []
    for item in plan.items:
        if unit is not None and unit not in item_parties(item):
            continue
        dues = stage_due_dates(plan, item, calendar=calendar)
        for stage, due in (dues or {}).items():
            deadlines.append(Deadline(item, stage, due))
    deadlines.sort(key=lambda d: (d.due, d.item.number, list(Stage).index(d.stage)))
    return deadlines


def item_parties(item: Item) -> set[str]:
    return {item.lead, *item.coordinating, *item.supporting}


# --- ordering without the holiday calendar ---------------------------------------------------

# More weekday days off than Vietnam has in any stretch of 250 working days (11 public holidays a
# year and their observed days); a plan's own extra days off are added to it.
HOLIDAY_SLACK = 20


def _weekday_index(d: dt.date) -> int:
    """How many Monday–Friday days come before `d` (1 January of year 1 was a Monday)."""
    days = d.toordinal() - 1
    return 5 * (days // 7) + min(days % 7, 5)


def _weekday_at(index: int) -> dt.date:
    return dt.date.fromordinal(7 * (index // 5) + index % 5 + 1)


def add_weekdays(d: dt.date, n: int) -> dt.date:
    """`WorkingCalendar.add_working_days` for a calendar with no holidays at all."""
    if n > 0:
        return _weekday_at(_weekday_index(d + dt.timedelta(days=1)) + n - 1)
    return _weekday_at(_weekday_index(d) + n)


def surely_in_order(first: dt.date, first_days: int, second: dt.date, second_days: int, slack: int = HOLIDAY_SLACK) -> bool:
    """Whether `first + first_days` working days is on or before `second + second_days` whatever the
    holidays, as long as there are at most `slack` weekday days off and no extra working days.

    Days off only push a count away from its anchor, so weekday arithmetic bounds it from both
    sides; when the bounds decide, the holiday calendar (slow to load) is not needed at all.
    """
    if first <= second and first_days <= second_days:
        return True  # counting working days never goes backwards in either argument
    latest_first = add_weekdays(first, first_days + slack) if first_days >= 0 else add_weekdays(first, first_days)
    earliest_second = add_weekdays(second, second_days) if second_days >= 0 else add_weekdays(second, second_days - slack)
    return latest_first <= earliest_second
