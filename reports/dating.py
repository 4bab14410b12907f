"""The report's date: the day the reporting regime sends it (Decree 09/2019's cut-off plus the plan's
working days), a working day; a report made after that day is dated the first working day from the
day it is made. A date given by the drafter wins."""

from __future__ import annotations

import datetime as dt

from plan.calendar import ReportingPeriod
from plan.model import Plan
from plan.schedule import working_calendar


def report_date(plan: Plan, period: ReportingPeriod, made_on: dt.date, given: dt.date | None = None) -> dt.date:
    if given is not None:
        return given
    calendar = working_calendar(plan)
    sending = period.sending_deadline(calendar, plan.reporting.send_working_days_after_cutoff)
    return sending if made_on <= sending else calendar.next_working_day(made_on)
