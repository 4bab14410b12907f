"""The upward report's numbers for one reporting period, aggregated from the ledger with pandas.

The database filters the plan's events up to the report date and reduces them: one row per
occurrence with the latest status of each stage, one row per invitation with its latest answer, and
the few rows whose JSON payload matters (sessions and requests, execution outcomes, notes), read with
the database's JSON functions. pandas and numpy then join those rows to the stage due dates, counted
in Vietnamese working days with vectorised arithmetic, and derive what `plan.progress.item_status`
derives (the reference): stages done and overdue, each item's RAG, the late list with its reasons,
the units and the counterparts. No Python loop runs over events; the loops here run over the plan's
items, units and indicators to build lookup tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plan.calendar import ReportingPeriod, WorkingCalendar
from plan.events import ANSWERED, MAIN, CoordinationStatus, EventKind, StageStatus
from plan.ledger import Ledger, events_table
from plan.model import STAGE_LABELS, Anchor, CounterpartKind, ItemKind, Plan, Stage
from plan.occurrences import item_occurrences
from plan.progress import RAG_LABELS, Rag
from plan.schedule import item_span, working_calendar
from plan.text import window_text
from reports.data import (
    COUNTERPART_COLUMNS,
    INDICATOR_COLUMNS,
    INDICATOR_TOTAL_COLUMNS,
    ITEM_COLUMNS,
    LATE_COLUMNS,
    NOTE_COLUMNS,
    UNIT_COLUMNS,
    ReportData,
)

__all__ = ["aggregate", "RAG_DTYPE", "KIND_DTYPE", "STAGE_DTYPE", "COUNTERPART_KIND_DTYPE"]

STAGES = list(Stage)
STAGE_STATUSES = list(StageStatus)
ANSWERS = list(CoordinationStatus)
RAG_ORDER = [Rag.DONE, Rag.ON_TRACK, Rag.AT_RISK, Rag.OFF_TRACK]  # as reports list them

RAG_DTYPE = pd.CategoricalDtype([r.value for r in RAG_ORDER])
KIND_DTYPE = pd.CategoricalDtype([k.value for k in ItemKind])
STAGE_DTYPE = pd.CategoricalDtype([s.value for s in Stage], ordered=True)
COUNTERPART_KIND_DTYPE = pd.CategoricalDtype([k.value for k in CounterpartKind])

_DONE, _SKIPPED, _BLOCKED, _NOT_STARTED = (STAGE_STATUSES.index(s) for s in (StageStatus.DONE, StageStatus.SKIPPED, StageStatus.BLOCKED, StageStatus.NOT_STARTED))
_INVITED = ANSWERS.index(CoordinationStatus.INVITED)
_ANCHORS = {Anchor.START: 0, Anchor.END: 1, Anchor.ISSUED: 2}
# Status codes packed with an event (below): a stage's lifecycle, then an invitation's.
_CODES = {s.value: i for i, s in enumerate(STAGE_STATUSES)} | {s.value: 8 + i for i, s in enumerate(ANSWERS)}

# "The latest event" in SQL without joining back: each event is packed into one integer ordered by
# its id and carrying its status code and date, so MAX() over a group gives the latest event and
# what it says: id · 2^21 + code · 2^17 + day.
_ID_SHIFT, _CODE_SHIFT = 1 << 21, 1 << 17
# Dates travel as day numbers: 1 is 1/1/1900, 0 is no date; 17 bits reach 2258.
_EPOCH = dt.date(1900, 1, 1)
_DAY0 = _EPOCH.toordinal() - 1  # ordinal = day number + _DAY0


def aggregate(plan: Plan, ledger: Ledger, period: ReportingPeriod, as_of: dt.date | None = None) -> ReportData:
    """The report tables for `period`, whose data window is Decree 09/2019's, with statuses as of `as_of`
    (default: the window's last day). Only this plan's events dated up to `as_of` are read; "in the
    window" below means dated inside the data window, up to `as_of`.

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
    """
    window = period.data_window
    as_of = as_of or window[1]
    in_period = (window[0], min(window[1], as_of))
    with ledger.transaction(write=False) as conn:
        raw = _read(conn, plan, as_of, in_period)
        return _build(plan, period, as_of, window, in_period, raw, functools.partial(_status_reasons, conn))


# -- reading: filters and reductions in SQL ----------------------------------------------------------


@dataclass
class _Raw:
    # One row per occurrence (counterpart None): the latest status of each stage, packed; one row per
    # invitation (item, occurrence, counterpart): its latest answer, packed under its stage (coordination).
    states: pd.DataFrame  # item, occurrence, counterpart, preparation, coordination, execution, reporting
    # The rows whose payload matters: occurrences opened (their dates), execution outcomes in the
    # period (their indicators) and outcomes with a note.
    details: pd.DataFrame  # id, item, occurrence, kind, stage, day, actor, start, end, note, indicators
    events_in_period: int


def _read(conn: Connection, plan: Plan, as_of: dt.date, in_period: tuple[dt.date, dt.date]) -> _Raw:
    t = events_table
    plan_id = unicodedata.normalize("NFC", plan.id)
    # Every query reads the events up to the last one recorded now: the ledger only appends and ids
    # become visible in order, so the queries see one cut of it even where each statement takes its
    # own snapshot (PostgreSQL's read committed).
    last = conn.execute(sa.select(sa.func.max(t.c.id)).where(t.c.plan_id == plan_id)).scalar() or 0
    # On SQLite a plain scan and a sort beat walking the (plan, item, occurrence) index, whose rows
    # lie all over the table: `+plan_id` keeps the planner off it.
    plan_column = sa.literal_column(f"+{t.name}.plan_id") if conn.dialect.name == "sqlite" else t.c.plan_id
    this_plan = sa.and_(plan_column == plan_id, t.c.id <= last)
    known = sa.and_(this_plan, sa.or_(t.c.effective_date <= as_of, t.c.effective_date.is_(None)))
    is_answer = t.c.kind == EventKind.COUNTERPART_STATUS.value
    is_outcome = t.c.kind == EventKind.OUTCOME.value
    is_opened = t.c.kind == EventKind.OCCURRENCE_OPENED.value
    day = sa.func.coalesce(_day_number(conn, t.c.effective_date), 0)

    # The latest status of every stage and every invitation; only finished stages and answers need a date.
    dated = sa.or_(is_answer, t.c.status.in_([StageStatus.DONE.value, StageStatus.SKIPPED.value]))
    packed = t.c.id * _ID_SHIFT + sa.case(_CODES, value=t.c.status, else_=15) * _CODE_SHIFT + sa.case((dated, day), else_=0)
    counterpart = sa.case((is_answer, t.c.counterpart)).label("counterpart")
    states = (
        sa.select(
            t.c.item,
            t.c.occurrence,
            counterpart,
            *(sa.func.coalesce(sa.func.max(sa.case((t.c.stage == s.value, packed))), -1).label(s.value) for s in STAGES),
        )
        .where(known, sa.or_(t.c.kind == EventKind.STAGE_STATUS.value, sa.and_(is_answer, t.c.counterpart.is_not(None))))
        .group_by(t.c.item, t.c.occurrence, counterpart)
    )

    in_window = t.c.effective_date.between(*in_period)
    execution = sa.and_(is_outcome, t.c.stage == Stage.EXECUTION.value, in_window)
    note = t.c.payload["note"].as_string()
    details = sa.select(
        t.c.id,
        t.c.item,
        t.c.occurrence,
        t.c.kind,
        t.c.stage,
        day.label("day"),
        sa.case((is_outcome, t.c.actor)).label("actor"),
        sa.case((is_opened, _day_number(conn, t.c.payload["start"].as_string(), text=True))).label("start"),
        sa.case((is_opened, _day_number(conn, t.c.payload["end"].as_string(), text=True))).label("end"),
        sa.case((is_outcome, note)).label("note"),
        sa.case((execution, t.c.payload["indicators"].as_string())).label("indicators"),  # JSON text: parsed at once below
    ).where(known, sa.or_(is_opened, execution, sa.and_(is_outcome, note.is_not(None), note != "")))

    count = sa.select(sa.func.count()).where(this_plan, in_window)
    return _Raw(
        states=_frame(conn, states),
        details=_frame(conn, details),
        events_in_period=int(conn.execute(count).scalar_one()) if in_period[0] <= in_period[1] else 0,
    )


def _day_number(conn: Connection, value, *, text: bool = False):
    """The database computes day numbers (1 = 1/1/1900) from dates, or from ISO dates in JSON text."""
    if conn.dialect.name == "sqlite":
        return sa.cast(sa.func.julianday(value) - 2415020.5, sa.Integer) + 1
    return (sa.cast(value, sa.Date) if text else value) - sa.literal(_EPOCH, sa.Date) + 1


def _frame(conn: Connection, query) -> pd.DataFrame:
    # Plain DBAPI rows into object columns: building a frame from SQLAlchemy Row objects, or inferring
    # pandas' string dtype, costs more than the query. SQLite gives JSON text, PostgreSQL objects.
    result = conn.execute(query)
    return pd.DataFrame(result.cursor.fetchall(), columns=list(result.keys()), dtype=object)


def _status_reasons(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The reason recorded with some status events (late blocked stages with no note: a handful)."""
    t, found = events_table, {}
    for begin in range(0, len(ids), 500):
        query = sa.select(t.c.id, t.c.payload["reason"].as_string()).where(t.c.id.in_(ids[begin : begin + 500]))
        found.update((int(i), r) for i, r in conn.execute(query) if r)
    return found


# -- working days, vectorised ---------------------------------------------------------------------


class _Days:
    """`WorkingCalendar` arithmetic on arrays of date ordinals: the calendar's working days from `first`
    to `last` in a sorted array, searched with numpy as the calendar bisects its own list."""

    def __init__(self, calendar: WorkingCalendar, first: int, last: int):
        ordinals = np.arange(first, last + 1, dtype=np.int64)
        self.working = ordinals[[calendar.is_working_day(dt.date.fromordinal(int(o))) for o in ordinals]]

    def add(self, ordinals: np.ndarray, n: np.ndarray) -> np.ndarray:
        """`add_working_days` element-wise; n = 0 is the day itself or the next working day."""
        after = np.searchsorted(self.working, ordinals, side="right") + n - 1
        before = np.searchsorted(self.working, ordinals, side="left") + n
        index = np.where(n > 0, after, before)
        if index.size and (index.min() < 0 or index.max() >= self.working.size):
            raise IndexError("the working-day table does not cover these dates")
        return self.working[index]

    def late(self, due: np.ndarray, on: np.ndarray) -> np.ndarray:
        """`working_days_late` element-wise: the working days after `due` up to `on`."""
        counted = np.searchsorted(self.working, on, side="right") - np.searchsorted(self.working, due, side="right")
        return np.where(on > due, counted, 0)


def _dates(ordinals: np.ndarray) -> np.ndarray:
    """`datetime.date` objects, as the rest of Kehoach writes dates (for result rows only)."""
    return np.array([dt.date.fromordinal(int(o)) for o in ordinals], dtype=object)


def _ints(values: pd.Series) -> np.ndarray:
    return values.fillna(0).to_numpy(dtype=np.int64)


# -- the plan as lookup tables ----------------------------------------------------------------------


@dataclass
class _PlanTables:
    items: pd.DataFrame  # one row per item, in plan order (row = item position)
    offsets: np.ndarray  # [item, 0 own window | 1 an occurrence, stage] -> (anchor code, working days)
    occurrences: pd.DataFrame  # the plan's own occurrences (main, months): item, occurrence, start, end


def _plan_tables(plan: Plan, as_of: dt.date) -> _PlanTables:
    names = {p.id: (getattr(p, "short_name", None) or p.name) for p in (*plan.units, *plan.bodies, plan.directors, plan.department)}
    rows, offsets, occurrences = [], [], []
    months: dict[tuple[dt.date, dt.date], list] = {}  # monthly items with the same window share their months
    for position, item in enumerate(plan.items):
        rows.append(
            (
                item.number,
                item.id,
                item.short_title,
                item.title,
                item.kind.value,
                window_text(plan, item),
                names.get(item.lead, item.lead),
                ", ".join(names.get(u, u) for u in item.coordinating),
                item.lead,
                tuple(item.coordinating),
            )
        )
        for as_occurrence in (False, True):
            for stage in STAGES:
                offset = plan.offset(item, stage, occurrence=as_occurrence)  # the rules make sure there is one
                offsets.append((_ANCHORS[offset.anchor], offset.working_days) if offset else (_ANCHORS[Anchor.ISSUED], 0))
        span = item_span(plan, item)
        if span is None:
            continue
        if item.recurrence:
            if span not in months:
                months[span] = [(o.id, o.start, o.end) for o in item_occurrences(plan, item, [], as_of)]
            found = months[span]
        else:
            found = [(MAIN, *span)]
        occurrences += [(position, ident, start.toordinal(), end.toordinal()) for ident, start, end in found]
    items = pd.DataFrame(rows, columns=["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating", "lead_id", "coordinating_ids"])
    items["kind"] = items["kind"].astype(KIND_DTYPE)
    occ = pd.DataFrame(occurrences, columns=["item", "occurrence", "start", "end"]).astype({"occurrence": object})
    return _PlanTables(items, np.array(offsets, dtype=np.int64).reshape(len(plan.items), 2, len(STAGES), 2), occ)


# -- building the tables -------------------------------------------------------------------------


class _Keys:
    """(item, occurrence) pairs as integers: item position × number of occurrence names + name code."""

    def __init__(self, *occurrence_columns: pd.Series):
        self.names = pd.Index(pd.unique(np.concatenate([c.to_numpy(dtype=object) for c in occurrence_columns])))
        self.size = max(len(self.names), 1)

    def of(self, items: np.ndarray, occurrences: pd.Series) -> np.ndarray:
        """Keys for item positions (-1: not in the plan) and occurrence names; -1 when the item is unknown."""
        codes = self.names.get_indexer(occurrences.to_numpy(dtype=object))
        return np.where((items >= 0) & (codes >= 0), items * self.size + codes, -1)


@dataclass
class _Views:
    """Every stage of every known occurrence (arrays shaped occurrences × stages), as item_status sees them."""

    occ: pd.DataFrame  # item (position), occurrence, start, end, main, key
    due: np.ndarray
    code: np.ndarray  # position in StageStatus
    status_id: np.ndarray  # id of the latest status event, 0 when none
    finished: np.ndarray
    finished_on: np.ndarray  # ordinal, 0 when not finished or undated
    late: np.ndarray  # working days late: open stages on as_of, finished ones when they finished
    overdue: np.ndarray
    severity: np.ndarray  # 1 on track, 2 at risk, 3 off track: positions in RAG_ORDER


def _build(
    plan: Plan,
    period: ReportingPeriod,
    as_of: dt.date,
    window: tuple[dt.date, dt.date],
    in_period: tuple[dt.date, dt.date],
    raw: _Raw,
    status_reasons: Callable[[list[int]], dict[int, str]],
) -> ReportData:
    tables = _plan_tables(plan, as_of)
    items = tables.items
    item_ids = pd.Index(items["id"])
    start, end = in_period[0].toordinal(), in_period[1].toordinal()

    states, details = raw.states, raw.details
    kind = details["kind"].to_numpy()
    opened = details.loc[kind == EventKind.OCCURRENCE_OPENED.value, ["item", "occurrence", "start", "end"]]
    keys = _Keys(tables.occurrences["occurrence"], states["occurrence"], details["occurrence"])

    # Occurrences as item_occurrences lists them: the plan's, then the sessions and requests opened by as_of.
    recorded_start = _ints(opened["start"]) + _DAY0
    recorded = pd.DataFrame(
        {
            "item": item_ids.get_indexer(opened["item"]),
            "occurrence": opened["occurrence"],
            "start": recorded_start,
            "end": np.where(_ints(opened["end"]) > 0, _ints(opened["end"]) + _DAY0, recorded_start),
        }
    )
    recorded["key"] = keys.of(recorded["item"].to_numpy(), opened["occurrence"])
    own = tables.occurrences.assign(key=keys.of(tables.occurrences["item"].to_numpy(), tables.occurrences["occurrence"]))
    occ = pd.concat([own, recorded[(recorded["key"] >= 0) & (recorded["start"] > _DAY0)]], ignore_index=True)
    occ = occ.drop_duplicates("key", ignore_index=True)  # an occurrence recorded twice is one occurrence
    occ["main"] = (occ["occurrence"] == MAIN).to_numpy()
    occ_index = pd.Index(occ["key"])

    state_keys = keys.of(item_ids.get_indexer(states["item"]), states["occurrence"])
    is_invitation = states["counterpart"].notna().to_numpy()
    views = _views(plan, tables, occ, occ_index.get_indexer(state_keys[~is_invitation]), states[~is_invitation], as_of)

    # Per item: counts and RAG, the worst stage (done when every stage of every occurrence is finished).
    n_items, occ_item = len(items), occ["item"].to_numpy(dtype=np.int64)

    def per_item(values) -> np.ndarray:
        return np.bincount(occ_item, weights=values, minlength=n_items).astype(np.int64)

    done_in_period = views.finished & (views.finished_on >= start) & (views.finished_on <= end)
    stages_total = per_item(np.full(len(occ), len(STAGES)))
    stages_done = per_item(views.finished.sum(axis=1))
    stages_done_in_period = per_item(done_in_period.sum(axis=1))
    stages_overdue = per_item(views.overdue.sum(axis=1))
    worst = np.ones(n_items, dtype=np.int64)
    np.maximum.at(worst, occ_item, views.severity.max(axis=1, initial=1))
    rag = np.where((stages_total > 0) & (stages_done == stages_total), 0, worst)

    item_table = items[["number", "id", "short_title", "title", "kind", "window", "lead", "coordinating"]].copy()
    item_table["rag"] = pd.Categorical.from_codes(rag, dtype=RAG_DTYPE)
    item_table["rag_label"] = np.array([RAG_LABELS[r] for r in RAG_ORDER], dtype=object)[rag]
    item_table["occurrences"] = per_item(np.ones(len(occ)))
    item_table["stages_total"] = stages_total
    item_table["stages_done"] = stages_done
    item_table["stages_done_in_period"] = stages_done_in_period
    item_table["stages_overdue"] = stages_overdue

    details_item = item_ids.get_indexer(details["item"])
    details_key = keys.of(details_item, details["occurrence"])
    day = _ints(details["day"]) + _DAY0
    is_outcome = kind == EventKind.OUTCOME.value
    has_note = is_outcome & details["note"].notna().to_numpy()
    notes = pd.DataFrame(
        {
            "id": details["id"].to_numpy(dtype=np.int64)[has_note],
            "item": details_item[has_note],
            "key": details_key[has_note],
            "stage": pd.Categorical(details["stage"].to_numpy()[has_note], dtype=STAGE_DTYPE).codes,
            "on": day[has_note],
            "actor": details["actor"].to_numpy()[has_note],
            "note": details["note"].to_numpy()[has_note],
        }
    )
    executions = is_outcome & (details["stage"] == Stage.EXECUTION.value).to_numpy() & (day >= start) & (day <= end)
    indicators, totals = _indicators(
        plan, items, details["id"].to_numpy(dtype=np.int64)[executions], details["indicators"].to_numpy()[executions], details_item[executions], details_key[executions]
    )

    return ReportData(
        plan=plan,
        period=period,
        as_of=as_of,
        window=window,
        events_in_period=raw.events_in_period,
        items=item_table[ITEM_COLUMNS].reset_index(drop=True),
        indicators=indicators,
        indicator_totals=totals,
        units=_units(plan, items, stages_done_in_period, stages_overdue),
        late=_late(items, views, notes, status_reasons),
        counterparts=_counterparts(plan, items, states[is_invitation], occ_index.get_indexer(state_keys[is_invitation]), start, end),
        notes=_notes(items, notes, start, end),
    )


def _views(plan: Plan, tables: _PlanTables, occ: pd.DataFrame, rows: np.ndarray, states: pd.DataFrame, as_of: dt.date) -> _Views:
    n_occ, n_stages = len(occ), len(STAGES)
    item = occ["item"].to_numpy(dtype=np.int64)
    variant = np.where(occ["main"].to_numpy(), 0, 1)
    anchor = tables.offsets[item, variant, :, 0]
    working_days = tables.offsets[item, variant, :, 1]
    anchors = np.stack([occ["start"].to_numpy(np.int64), occ["end"].to_numpy(np.int64), np.full(n_occ, plan.document.issued_on.toordinal())], axis=1)
    anchor_date = np.take_along_axis(anchors, anchor, axis=1)

    # Each stage's latest status, unpacked; a stage with no status event has not started.
    packed = np.full((n_occ, n_stages), -1, dtype=np.int64)
    found = rows >= 0
    for s, stage in enumerate(STAGES):
        packed[rows[found], s] = states[stage.value].to_numpy(dtype=np.int64)[found]
    seen = packed >= 0
    code = np.where(seen, (packed // _CODE_SHIFT) % 16, _NOT_STARTED)
    code = np.where(code < len(STAGE_STATUSES), code, _NOT_STARTED)
    finished = (code == _DONE) | (code == _SKIPPED)
    day = np.where(seen, packed % _CODE_SHIFT, 0)
    finished_on = np.where(finished & (day > 0), day + _DAY0, 0)

    as_of_ord = as_of.toordinal()
    dates = np.concatenate([anchor_date.ravel(), finished_on.ravel(), [as_of_ord]])
    # 250 working days (the largest offset a plan may use) span about a year: twice the offset in
    # calendar days, and a margin, cover any run of holidays.
    margin = 2 * int(np.abs(tables.offsets[..., 1]).max(initial=0)) + 60
    days = _Days(working_calendar(plan), int(dates[dates > 0].min()) - margin, int(dates.max()) + margin)
    due = days.add(anchor_date.ravel(), working_days.ravel()).reshape(n_occ, n_stages)
    late = days.late(due, np.where(finished_on > 0, finished_on, as_of_ord))
    overdue = ~finished & (late > 0)

    # plan.progress._rag stage by stage: blocked, or overdue beyond the policy, is off track; overdue,
    # or not started though due within a few working days, is at risk.
    policy = plan.policy
    due_soon = (code == _NOT_STARTED) & (due >= as_of_ord) & (days.late(np.full_like(due, as_of_ord), due) <= policy.due_soon_working_days)
    severity = np.select(
        [code == _BLOCKED, overdue & (late > policy.off_track_after_working_days), overdue, due_soon], [3, 3, 2, 2], default=1
    )
    return _Views(occ, due, code, np.where(seen, packed // _ID_SHIFT, 0), finished, finished_on, late, overdue, severity)


def _late(items: pd.DataFrame, views: _Views, notes: pd.DataFrame, status_reasons: Callable[[list[int]], dict[int, str]]) -> pd.DataFrame:
    """Stages not finished and past due on as_of, with the reason people gave."""
    occ = views.occ
    row, stage = np.nonzero(views.overdue)
    item = occ["item"].to_numpy(dtype=np.int64)[row]
    table = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[item],
            "short_title": items["short_title"].to_numpy(dtype=object)[item],
            "occurrence": occ["occurrence"].to_numpy(dtype=object)[row],  # the ledger's id: main, 2023-05, 2023-08-01-dsq-singapore
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "due": _dates(views.due[row, stage]),
            "working_days_late": views.late[row, stage].astype(np.int64),
            "lead": items["lead"].to_numpy(dtype=object)[item],
            "reason": _reasons(occ["key"].to_numpy()[row], stage, notes),
        }
    )
    # A blocked stage with no note: the reason recorded with its status, if any (read for those few).
    blocked = (views.code[row, stage] == _BLOCKED) & (table["reason"] == "").to_numpy()
    if blocked.any():
        ids = views.status_id[row, stage][blocked]
        recorded = status_reasons(sorted({int(i) for i in ids}))
        table.loc[blocked, "reason"] = [recorded.get(int(i), "") for i in ids]
    order = np.lexsort((stage, views.due[row, stage], table["item_number"].to_numpy()))
    return table.iloc[order][LATE_COLUMNS].reset_index(drop=True)


def _reasons(keys: np.ndarray, stages: np.ndarray, notes: pd.DataFrame) -> np.ndarray:
    """The latest note on the late stage, else the latest on its occurrence, else ''."""
    reason = np.full(len(keys), "", dtype=object)
    if not len(keys) or notes.empty:
        return reason
    ordered = notes.sort_values("id")
    n = len(STAGES)
    staged = ordered[ordered["stage"] >= 0]
    by_stage = pd.Series(staged["note"].to_numpy(), index=staged["key"].to_numpy() * n + staged["stage"].to_numpy())
    by_stage = by_stage[~by_stage.index.duplicated(keep="last")]
    by_occurrence = pd.Series(ordered["note"].to_numpy(), index=ordered["key"].to_numpy())
    by_occurrence = by_occurrence[~by_occurrence.index.duplicated(keep="last")]
    for lookup, wanted in ((by_occurrence, keys), (by_stage, keys * n + stages)):  # the stage's own note wins
        at = lookup.index.get_indexer(wanted)
        reason[at >= 0] = lookup.to_numpy()[at[at >= 0]]
    return reason


def _indicators(plan: Plan, items: pd.DataFrame, ids: np.ndarray, texts: np.ndarray, item: np.ndarray, key: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest execution outcome in the period of each occurrence (a correction replaces what it
    corrects): its indicators summed per item, and over all items. The outcomes come as arrays: event
    ids, `indicators` JSON texts, item positions and occurrence keys."""
    catalogue = plan.indicators
    order = np.lexsort((ids, key))  # by occurrence, then id: the last of each run is the latest
    latest = order[np.r_[key[order][1:] != key[order][:-1], True]] if len(order) else order
    latest = latest[item[latest] >= 0]
    values = _indicator_values(texts[latest], [i.id for i in catalogue])
    counted = ~np.isnan(values)
    sums = np.zeros((len(items), len(catalogue)))
    given = np.zeros((len(items), len(catalogue)), dtype=np.int64)
    for n in range(len(catalogue)):
        sums[:, n] = np.bincount(item[latest][counted[:, n]], weights=values[counted[:, n], n], minlength=len(items))
        given[:, n] = np.bincount(item[latest][counted[:, n]], minlength=len(items))
    row, column = np.nonzero(given)  # item order, then catalogue order
    per_item = pd.DataFrame(
        {
            "item_number": items["number"].to_numpy()[row],
            "indicator": np.array([i.id for i in catalogue], dtype=object)[column],
            "label": np.array([i.label for i in catalogue], dtype=object)[column],
            "unit": np.array([i.unit for i in catalogue], dtype=object)[column],
            "value": sums[row, column].astype(np.int64),
        }
    )
    totals = pd.DataFrame(
        {
            "indicator": pd.Series([i.id for i in catalogue], dtype=object),
            "label": pd.Series([i.label for i in catalogue], dtype=object),
            "unit": pd.Series([i.unit for i in catalogue], dtype=object),
            "value": sums.sum(axis=0).astype(np.int64),
            "items": (given > 0).sum(axis=0).astype(np.int64),
        }
    )
    return per_item[INDICATOR_COLUMNS], totals[INDICATOR_TOTAL_COLUMNS]


def _indicator_values(texts: np.ndarray, catalogue: list[str]) -> np.ndarray:
    """The `indicators` objects (JSON text, None when absent) as a matrix rows × catalogue, NaN where
    not given; whole numbers only, as item_status counts. One parse for all the rows."""
    if not len(texts):
        return np.zeros((0, len(catalogue)))
    parsed = json.loads("[" + ",".join(t if isinstance(t, str) else "null" for t in texts) + "]")
    records = [p if isinstance(p, dict) else {} for p in parsed]
    values = pd.DataFrame.from_records(records, columns=catalogue).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return np.where(values == np.floor(values), values, np.nan)


def _units(plan: Plan, items: pd.DataFrame, done_in_period: np.ndarray, overdue: np.ndarray) -> pd.DataFrame:
    """Per unit: the items it leads and coordinates (plan); its led items' stages done in the period and overdue."""
    units = pd.DataFrame({"unit": [u.id for u in plan.units], "short_name": [u.short_name for u in plan.units], "name": [u.name for u in plan.units]}, dtype=object)
    index = pd.Index(units["unit"])
    lead = index.get_indexer(items["lead_id"])
    led = lead >= 0
    units["items_led"] = np.bincount(lead[led], minlength=len(units))
    coordinating = index.get_indexer(items["coordinating_ids"].explode().dropna())
    units["items_coordinated"] = np.bincount(coordinating[coordinating >= 0], minlength=len(units))
    units["stages_done"] = np.bincount(lead[led], weights=done_in_period[led], minlength=len(units)).astype(np.int64)
    units["stages_overdue"] = np.bincount(lead[led], weights=overdue[led], minlength=len(units)).astype(np.int64)
    return units[UNIT_COLUMNS]


def _counterparts(plan: Plan, items: pd.DataFrame, answers: pd.DataFrame, occurrence_row: np.ndarray, start: int, end: int) -> pd.DataFrame:
    """Per counterpart, by latest answer on as_of: the invitations of known occurrences whose latest
    answer is dated in the period, and those still awaiting one, whenever they were sent."""
    packed = answers[[s.value for s in STAGES]].to_numpy(dtype=np.int64).max(axis=1, initial=-1)  # answers are coordination's
    answer = (packed // _CODE_SHIFT) % 16 - 8
    on = np.where(packed % _CODE_SHIFT > 0, packed % _CODE_SHIFT + _DAY0, 0)
    item = pd.Index(items["id"]).get_indexer(answers["item"])
    sent = np.isin(answer, [ANSWERS.index(a) for a in (CoordinationStatus.INVITED, *ANSWERED)])
    chosen = (occurrence_row >= 0) & (item >= 0) & (packed >= 0) & sent & (((on >= start) & (on <= end)) | (answer == _INVITED))
    table = pd.DataFrame({"counterpart": answers["counterpart"].to_numpy()[chosen], "number": items["number"].to_numpy()[item[chosen]], "answer": answer[chosen]})

    known = {c.id: c for c in plan.counterparts}
    order = {c.id: n for n, c in enumerate(plan.counterparts)}
    ids = sorted(set(table["counterpart"]), key=lambda c: (order.get(c, len(order)), c))
    counts = table.groupby(["counterpart", "answer"]).size()
    listed = table.drop_duplicates(["counterpart", "number"]).sort_values("number").groupby("counterpart")["number"].agg(lambda n: ", ".join(map(str, n)))
    result = pd.DataFrame(
        {
            "counterpart": pd.Series(ids, dtype=object),
            "name": pd.Series([(known[c].short_name or known[c].name) if c in known else c for c in ids], dtype=object),
            "kind": pd.Categorical([known[c].kind.value if c in known else None for c in ids], dtype=COUNTERPART_KIND_DTYPE),
            "items": pd.Series([listed.get(c, "") for c in ids], dtype=object),
        }
    )
    for column, status in (("confirmed", CoordinationStatus.CONFIRMED), ("declined", CoordinationStatus.DECLINED), ("no_answer", CoordinationStatus.NO_ANSWER), ("awaiting", CoordinationStatus.INVITED)):
        result[column] = np.array([counts.get((c, ANSWERS.index(status)), 0) for c in ids], dtype=np.int64)
    return result[COUNTERPART_COLUMNS]


def _notes(items: pd.DataFrame, notes: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Outcome notes dated inside the period, by date."""
    chosen = notes[(notes["on"] >= start) & (notes["on"] <= end) & (notes["item"] >= 0) & (notes["stage"] >= 0)].copy()
    chosen["item_number"] = items["number"].to_numpy()[chosen["item"].to_numpy(dtype=np.int64)]
    chosen = chosen.sort_values(["on", "item_number", "id"], kind="stable")
    stage = chosen["stage"].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "item_number": chosen["item_number"].to_numpy(dtype=np.int64),
            "stage": pd.Categorical.from_codes(stage, dtype=STAGE_DTYPE),
            "stage_label": np.array([STAGE_LABELS[s] for s in STAGES], dtype=object)[stage],
            "date": _dates(chosen["on"].to_numpy()),
            "actor": chosen["actor"].to_numpy(dtype=object),
            "text": chosen["note"].to_numpy(dtype=object),
        }
    )[NOTE_COLUMNS]
