"""The occurrences of an item: its own window ("main"), the months of a recurring item, and the
sessions or requests the coordinator records (a training course, an embassy's anniversary event)."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from plan.events import MAIN, Event, EventKind, NewEvent
from plan.model import Item, ItemKind, Plan
from plan.schedule import item_span


@dataclass(frozen=True)
class Occurrence:
    item_id: str
    id: str
    start: dt.date
    end: dt.date
    known_since: dt.date  # from when the Department knows it must act (the plan's issue, a request)
    counterparts: tuple[str, ...] = ()
    title: str | None = None

    @property
    def is_main(self) -> bool:
        return self.id == MAIN

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return self.start, self.end


def item_occurrences(plan: Plan, item: Item, events: Iterable[Event | NewEvent], as_of: dt.date) -> list[Occurrence]:
    """Every occurrence of the item known on `as_of`, in date order (main first on ties)."""
    found: list[Occurrence] = []
    span = item_span(plan, item)
    if span is not None:
        found.append(
            Occurrence(item.id, MAIN, span[0], span[1], min(plan.document.issued_on, span[0]), tuple(item.counterparts))
        )
    if item.recurrence == "monthly" and span is not None:
        found.extend(_months(plan, item, span, as_of))
    for event in events:
        if event.kind != EventKind.OCCURRENCE_OPENED or event.item != item.id:
            continue
        if event.effective_date is not None and event.effective_date > as_of:
            continue  # asked for after the date being looked at
        payload = event.payload
        found.append(
            Occurrence(
                item.id,
                event.occurrence,
                dt.date.fromisoformat(payload["start"]),
                dt.date.fromisoformat(payload.get("end") or payload["start"]),
                event.effective_date or dt.date.fromisoformat(payload["start"]),
                tuple(payload.get("counterparts", ())),
                payload.get("title"),
            )
        )
    found.sort(key=lambda o: (o.start, not o.is_main, o.id))
    return found


def _months(plan: Plan, item: Item, span: tuple[dt.date, dt.date], as_of: dt.date) -> list[Occurrence]:
    """A recurring item's months, from the plan's issue (or the window's start) up to `as_of`."""
    first = max(span[0], plan.document.issued_on)
    months = []
    year, month = first.year, first.month
    # A month is known from its first day, or from the plan's issue for the month it was issued in.
    while max(dt.date(year, month, 1), first) <= min(as_of, span[1]):
        start = max(dt.date(year, month, 1), first)
        end = min(dt.date(year, month, _calendar.monthrange(year, month)[1]), span[1])
        months.append(Occurrence(item.id, f"{year:04d}-{month:02d}", start, end, start, (), f"tháng {month}/{year}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def occurrence_id(on: dt.date, counterpart: str | None = None) -> str:
    """The id given to a recorded occurrence: its date, and the requesting counterpart if any."""
    return f"{on.isoformat()}-{counterpart}" if counterpart else on.isoformat()


def accepts_requests(item: Item) -> bool:
    """Which items take recorded occurrences: requests (on-request items) and sessions of programmes."""
    return item.kind in (ItemKind.ON_REQUEST, ItemKind.PROGRAMME)
