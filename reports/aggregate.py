"""The upward report's numbers for one reporting period, aggregated from the ledger with pandas.

`aggregate` is the entry point; the work is in small modules:

- `reports.ledger_reads`: what the report needs from the ledger, decided in SQL from the states the
  ledger keeps beside its events (plan/ledger.py); where the states cannot tell, those occurrences
  are grouped from the events themselves, as all of them were before the states existed
  (`source="events"`, kept as the reference).
- `reports.sql_frames`: query results into pandas frames, cheaply; `reports.packed`: statuses and
  dates as the database hands them over (day numbers, packed events).
- `reports.plan_tables`: the plan as lookup tables (no database: a thread builds them meanwhile).
- `reports.tables`: the report's tables, derived as `plan.progress.item_status` derives them (the
  reference), with the working days of `reports.working_days`.
"""

from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor

from plan.calendar import ReportingPeriod
from plan.ledger import Ledger
from plan.model import Plan
from reports.data import ReportData
from reports.ledger_reads import SOURCES, Source, held_on, read_ledger, status_reasons
from reports.plan_tables import KIND_DTYPE, plan_tables
from reports.tables import COUNTERPART_KIND_DTYPE, RAG_DTYPE, STAGE_DTYPE, build_tables

__all__ = ["aggregate", "Source", "SOURCES", "RAG_DTYPE", "KIND_DTYPE", "STAGE_DTYPE", "COUNTERPART_KIND_DTYPE"]


def aggregate(plan: Plan, ledger: Ledger, period: ReportingPeriod, as_of: dt.date | None = None, *, source: Source = "states") -> ReportData:
    """The report tables for `period` (the months it reports on, `ReportingPeriod.span`: what happened
    in them belongs to it, even when recorded after Decree 09/2019's data cut-off), with statuses as
    of `as_of` (default: the period's last day). Only this plan's events dated up to `as_of` are read;
    "in the window" below means dated inside the period, up to `as_of`.

    - items: occurrences, stages and RAG as `plan.progress.item_status` derives them on `as_of`;
      `stages_done_in_period` counts the stages finished (done or skipped) in the window.
    - indicators: per occurrence, the latest execution outcome in the window (a correction replaces
      what it corrects; one recorded after the cut-off goes to the next report), summed per item and
      over all items; every catalogue indicator has a total, 0 when none was given.
    - units: the items each unit leads and coordinates (plan); over the items it leads, the stages
      finished in the window and those overdue on `as_of`.
    - late: the stages not finished and past due on `as_of`, with the reason people gave: the latest
      note on the stage, else on its occurrence, else the reason recorded with a blocked status, else
      "". `occurrence` is the ledger's id: main, 2023-05, 2023-08-01-dsq-singapore.
    - counterparts: each invitation's latest answer on `as_of`, counted when that answer is dated in
      the window or the invitation still awaits one; `items` lists item numbers ("6, 9").
    - notes: the outcome notes written in the window, by date.
    - events_in_period: the plan's events in the window; `ReportData.empty` when there is none.

    `late.due` and `notes.date` hold `datetime.date` values.

    `source` says where the rows come from: "states" (the default), the states the ledger keeps beside
    its events, and the events for the few occurrences those cannot tell; or "events", every row
    grouped from the events (the reference, slower on a large ledger). Both give the same report.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    window = period.span
    as_of = as_of or window[1]
    in_period = (window[0], min(window[1], as_of))
    # One snapshot for every statement: the states and the events read agree with each other. The
    # plan's lookup tables need no database: a thread builds them while the database works (both
    # SQLite and psycopg let go of the interpreter while a statement runs).
    with ledger.transaction(write=False, snapshot=True) as conn, ThreadPoolExecutor(1, thread_name_prefix="kehoach-report") as pool:
        tables = pool.submit(plan_tables, plan, as_of)
        raw = read_ledger(conn, plan, as_of, in_period, source=source)
        return build_tables(plan, period, as_of, window, in_period, raw, functools.partial(status_reasons, conn), tables.result(), functools.partial(held_on, conn))
