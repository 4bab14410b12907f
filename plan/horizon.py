"""Dates and periods within reason for a plan: what a command may record or send for.

A plan covers its year; the commands that write to the ledger or send mail accept dates from the
year before to the year after (a plan is prepared late in the previous year, its last reports go
out early in the next), and report on periods that overlap the plan's own span. Beyond that a date
is a typing mistake (9999-12-31 would record two million working days of lateness) unless the user
insists (`--force`).
"""

from __future__ import annotations

import datetime as dt

from plan.calendar import ReportingPeriod
from plan.model import ExactWindow, ExpectedWindow, Plan

MARGIN_YEARS = 1
FORCED_MARGIN_YEARS = 10  # even with --force: a date further off is a typing mistake, never a plan's


def _day(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def plan_span(plan: Plan) -> tuple[dt.date, dt.date]:
    """The plan's own span: its year, stretched to the dated windows of its items and its issue date."""
    starts = [dt.date(plan.year, 1, 1), plan.document.issued_on]
    ends = [dt.date(plan.year, 12, 31)]
    for item in plan.items:
        if isinstance(item.window, (ExactWindow, ExpectedWindow)):
            starts.append(item.window.start)
            ends.append(item.window.end)
    return min(starts), max(ends)


def reasonable_dates(plan: Plan) -> tuple[dt.date, dt.date]:
    """From the first day of the year before the span to the last day of the year after it."""
    start, end = plan_span(plan)
    return dt.date(start.year - MARGIN_YEARS, 1, 1), dt.date(end.year + MARGIN_YEARS, 12, 31)


def date_problem(plan: Plan, day: dt.date, option: str, *, forced: bool = False) -> str | None:
    """Why `day`, given as `option` (or today's date, when `option` says so), is out of reason for
    this plan; None when it is fine. `forced` (--force) widens the span to FORCED_MARGIN_YEARS."""
    first, last = reasonable_dates(plan)
    if first <= day <= last:
        return None
    what = f"{plan.document.type} số {plan.document.number_symbol}"
    if forced:
        start, end = plan_span(plan)
        if start.year - FORCED_MARGIN_YEARS <= day.year <= end.year + FORCED_MARGIN_YEARS:
            return None
        return f"{option} {_day(day)} quá xa thời gian của {what}, kể cả với --force (chỉ nhận trong {FORCED_MARGIN_YEARS} năm trước và sau)"
    return f"{option} {_day(day)} nằm ngoài thời gian của {what} (chỉ nhận từ {_day(first)} đến {_day(last)}); nếu đúng là ngày đó, thêm --force"


def period_problem(plan: Plan, period: ReportingPeriod) -> str | None:
    """Why a report on `period` makes no sense for this plan; None when the period overlaps it."""
    start, end = plan_span(plan)
    window_start, window_end = period.data_window
    if window_end < start or window_start > end:
        return (
            f"kỳ {period.label} ({window_start:%d/%m/%Y}–{window_end:%d/%m/%Y}) nằm ngoài thời gian của "
            f"{plan.document.type} số {plan.document.number_symbol} ({start:%d/%m/%Y}–{end:%d/%m/%Y})"
        )
    return None
