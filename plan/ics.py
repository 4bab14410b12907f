"""Stage deadlines as an iCalendar file that a unit imports into Outlook or Google Calendar."""

from __future__ import annotations

import datetime as dt

import icalendar

from plan.model import STAGE_LABELS, Plan
from plan.schedule import Deadline
from plan.text import window_text


def deadlines_to_ics(plan: Plan, deadlines: list[Deadline], *, unit: str | None = None, now: dt.datetime | None = None) -> bytes:
    stamp = now or dt.datetime.now(dt.UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//Kehoach//{plan.document.number_symbol}//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    name = f"{plan.document.type} {plan.document.number_symbol}"
    if unit:
        name += f" — {plan.party_name(unit)}"
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for deadline in deadlines:
        item = deadline.item
        event = icalendar.Event()
        # Stable UIDs: re-importing an updated file moves the same events instead of duplicating them.
        event.add("uid", f"{plan.id}.{item.id}.{deadline.stage.value}@kehoach")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + dt.timedelta(days=1))
        event.add("summary", f"Hạn {STAGE_LABELS[deadline.stage].lower()}: ND {item.number} — {item.short_title}")
        lines = [
            item.title,
            f"Thời gian: {window_text(plan, item)}",
            f"Chủ trì: {plan.party_name(item.lead)}",
        ]
        if item.coordinating:
            lines.append("Phối hợp: " + ", ".join(plan.party_name(u) for u in item.coordinating))
        lines.append(f"Theo {plan.document.type} số {plan.document.number_symbol}")
        event.add("description", "\n".join(lines))
        if item.venue:
            event.add("location", item.venue)
        event.add("categories", [STAGE_LABELS[deadline.stage]])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
