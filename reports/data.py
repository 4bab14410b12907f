"""What the upward report is made of: the tables aggregated from the ledger for one reporting period.

`reports.aggregate` fills a `ReportData`; `reports.document` turns it into PDF, DOCX and XLSX. The
tables are pandas DataFrames with the columns listed here (the contract between the two).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from plan.calendar import ReportingPeriod
from plan.model import Plan

# Column contracts (in this order). Categorical columns are noted.
ITEM_COLUMNS = [
    "number",  # int, item number in section II
    "id",  # str
    "short_title",  # str
    "title",  # str
    "kind",  # category: recurring, programme, event, on_request, research
    "window",  # str, as the plan words it (plan.text.window_text)
    "lead",  # str, short name of the lead unit or body
    "coordinating",  # str, short names joined by ", "
    "rag",  # category: done, on_track, at_risk, off_track
    "rag_label",  # str, Vietnamese (plan.progress.RAG_LABELS)
    "occurrences",  # int, occurrences known on as_of
    "stages_total",  # int
    "stages_done",  # int, done or skipped (in the whole plan up to as_of)
    "stages_done_in_period",  # int, finished inside the period's data window
    "stages_overdue",  # int, not finished and past due on as_of
    "prepared",  # bool, the item's preparation stage (own window or any occurrence) is finished
    "lead_name",  # str, full name of the lead unit or body
    "coordinating_names",  # str, full names joined by ", "
]
INDICATOR_COLUMNS = ["item_number", "indicator", "label", "unit", "value"]  # value: int, summed in the period
INDICATOR_TOTAL_COLUMNS = ["indicator", "label", "unit", "value", "items"]  # items: int, items contributing
UNIT_COLUMNS = ["unit", "short_name", "name", "items_led", "items_coordinated", "stages_done", "stages_overdue"]
LATE_COLUMNS = ["item_number", "short_title", "occurrence", "stage", "stage_label", "due", "working_days_late", "lead", "reason"]
COUNTERPART_COLUMNS = ["counterpart", "name", "kind", "items", "confirmed", "declined", "no_answer", "awaiting"]
NOTE_COLUMNS = ["item_number", "stage", "stage_label", "date", "actor", "text"]  # outcome notes dated in the period
# One row per known occurrence (the item's own window, a month, a session or a request): its dates
# (plan or request), the day it was held if the unit gave one, whether its execution is done and when,
# whether its latest execution outcome is dated in the period, and that outcome's indicators (dict).
OCCURRENCE_COLUMNS = ["item_number", "occurrence", "start", "end", "held_on", "executed", "executed_on", "in_period", "indicators"]
# Stages finished after their due date, finished in the period (late completions).
FINISHED_LATE_COLUMNS = ["item_number", "short_title", "occurrence", "stage", "stage_label", "due", "finished_on", "working_days_late", "lead"]
# The occurrences opened by a request or as a dated session (not the plan's own window or months),
# known on as_of, in the order they were opened: start and end are `datetime.date`; held: its
# execution stage is finished (done or skipped).
SESSION_COLUMNS = ["item_number", "occurrence", "start", "end", "held"]


@dataclass(frozen=True)
class ReportData:
    plan: Plan
    period: ReportingPeriod
    as_of: dt.date  # the report date: statuses are as of this day
    window: tuple[dt.date, dt.date]  # the months the period reports on (ReportingPeriod.span), inclusive
    events_in_period: int
    items: pd.DataFrame
    indicators: pd.DataFrame
    indicator_totals: pd.DataFrame
    units: pd.DataFrame
    late: pd.DataFrame
    counterparts: pd.DataFrame
    notes: pd.DataFrame
    occurrences: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OCCURRENCE_COLUMNS))
    finished_late: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINISHED_LATE_COLUMNS))
    date: dt.date | None = None  # the document's date (reports.dating); None: the report date itself
    sessions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SESSION_COLUMNS))

    @property
    def empty(self) -> bool:
        """No event at all in the period: the report still goes out and says so."""
        return self.events_in_period == 0
